import type { Aws } from "../../aws/create-aws.js";
import type { Colour } from "../../plan/names.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { decideLiveColour, requireLiveColour } from "../decide/live-colour.js";
import { observeApp } from "./live-state.js";

/**
 * The colour a rollout patches: the one that serves alone (decideLiveColour). NOT_FOUND when none
 * serves; PRECONDITION while traffic is split (a blue/green update is under way) or when DNS
 * points at a colour without a cluster.
 */
export async function liveColour(
  app: ResolvedKubeApp,
  aws: Aws,
): Promise<{ colour: Colour; weight: number }> {
  const live = requireLiveColour(app.name, decideLiveColour(await observeApp(app, aws)), {
    command: "roll out",
    shifting: false,
    clusterMissing: false,
  });
  return { colour: live.colour, weight: live.weight };
}
