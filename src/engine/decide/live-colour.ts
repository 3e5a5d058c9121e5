import { KubecontrolError } from "../../errors.js";
import { COLOURS, type Colour, other } from "../../plan/names.js";
import type { AppState } from "../observe/live-state.js";

/**
 * Which colour serves an app, decided from what stands (one rule for every command):
 *
 * - `live`: one colour serves. With a DNS name, the colour with the larger weight; `shifting`
 *   when the other has weight too (an update moving traffic). Without one, the only colour with
 *   a cluster. `idle` says whether the other colour stands (a kept or half-built colour).
 * - `none`: nothing serves: no colour has weight (an unfinished create leaves clusters at weight
 *   0, named in `standing`), or, without a DNS name, no colour has a cluster.
 * - `unclear`: two colours serve equally (equal non-zero weights, or two clusters and no DNS
 *   name); a person must say which.
 *
 * A colour that has weight but no cluster (its cluster deleted by hand) is still the one DNS
 * sends traffic to: `live`, with `clusterMissing`, so each command can refuse with that reason.
 */
export type LiveColour =
  | {
      kind: "live";
      colour: Colour;
      weight: number;
      shifting: boolean;
      idle: boolean;
      clusterMissing: boolean;
    }
  | { kind: "none"; why: string; standing: Colour[] }
  | { kind: "unclear"; why: string };

/** The colours whose cluster exists. */
export function standing(state: AppState): Colour[] {
  return COLOURS.filter((c) => state.colours[c].cluster !== undefined);
}

/** Decides which colour serves the app (pure: the state is all it reads). */
export function decideLiveColour(state: AppState): LiveColour {
  const stands = standing(state);
  const live = (colour: Colour, weight: number, shifting: boolean): LiveColour => ({
    kind: "live",
    colour,
    weight,
    shifting,
    idle: stands.includes(other(colour)),
    clusterMissing: !stands.includes(colour),
  });
  if (state.dnsName === undefined) {
    if (stands.length === 1) return live(stands[0]!, 0, false);
    if (stands.length === 0) return { kind: "none", why: "it has no cluster", standing: [] };
    return { kind: "unclear", why: "it has no DNS name and two colours (blue and green)" };
  }
  const weight = (c: Colour) => state.colours[c].record?.weight ?? 0;
  const [blue, green] = [weight("blue"), weight("green")];
  if (blue === 0 && green === 0)
    return {
      kind: "none",
      why: state.zoneFound
        ? `DNS ${state.dnsName} gives no colour any weight`
        : `the hosted zone of ${state.dnsName} does not exist`,
      standing: stands,
    };
  if (blue === green)
    return {
      kind: "unclear",
      why: `DNS ${state.dnsName} splits traffic evenly (blue ${blue}, green ${green})`,
    };
  const colour: Colour = blue > green ? "blue" : "green";
  return live(colour, Math.max(blue, green), blue > 0 && green > 0);
}

/** What a command accepts of a live colour besides one that serves alone from its cluster. */
export interface LivePolicy {
  /** The verb, for messages ("update", "roll out"). */
  command: string;
  /** Act while traffic is split between the colours (update finishes the shift; rollout refuses). */
  shifting: boolean;
  /** Act when DNS points at a colour without a cluster (update builds the other one; rollout cannot). */
  clusterMissing: boolean;
}

/**
 * The live colour a command may act on, or its coded error: NOT_FOUND (exit 8) when nothing
 * serves; PRECONDITION (exit 5) when which colour serves is unclear, or the policy refuses a split
 * or a missing cluster.
 */
export function requireLiveColour(
  app: string,
  live: LiveColour,
  policy: LivePolicy,
): Extract<LiveColour, { kind: "live" }> {
  if (live.kind === "none") {
    const unfinished = live.standing.length
      ? ` (${live.standing.join(" and ")} exists: an unfinished create?)`
      : "";
    throw new KubecontrolError(
      "NOT_FOUND",
      `${app} has no live colour to ${policy.command}: ${live.why}${unfinished}`,
      { hint: `deploy it first: kubecontrol create ${app}` },
    );
  }
  if (live.kind === "unclear")
    throw new KubecontrolError("PRECONDITION", `${app}'s live colour is unclear: ${live.why}`, {
      hint: `remove the colour that should not serve: kubecontrol teardown ${app} --colour <colour> --force`,
    });
  if (live.shifting && !policy.shifting)
    throw new KubecontrolError(
      "PRECONDITION",
      `DNS sends ${app}'s traffic to both colours (${live.colour} has ${live.weight} of it): a blue/green update is under way`,
      { hint: `let the update finish (kubecontrol history ${app}), then ${policy.command}` },
    );
  if (live.clusterMissing && !policy.clusterMissing)
    throw new KubecontrolError(
      "PRECONDITION",
      `DNS sends ${app}'s traffic to ${live.colour} (weight ${live.weight}), which has no cluster`,
      { hint: `update ${app} to build the other colour and move DNS to it: kubecontrol update ${app}` },
    );
  return live;
}

/**
 * The colour `teardown` removes when none is named: the only one that stands, else the one that
 * does not serve. USAGE when both stand and serve.
 */
export function colourToTearDown(app: string, state: AppState): Colour {
  const stands = standing(state);
  if (stands.length <= 1) return stands[0] ?? "blue";
  const idle = stands.filter((c) => (state.colours[c].record?.weight ?? 0) === 0);
  if (idle.length) return idle[0]!;
  throw new KubecontrolError("USAGE", `${app} has two live colours (blue and green)`, {
    hint: "name the one to remove with --colour",
  });
}

/**
 * Whether DNS may move to `to` (pure): the app must have a DNS name (PRECONDITION, exit 5) and
 * `to` a cluster that is ACTIVE (NOT_FOUND, exit 8: a colour that does not stand cannot serve).
 * Says whether `to` already serves alone, in which case a switch only confirms it.
 */
export function decideSwitch(state: AppState, to: Colour): { from: Colour; already: boolean } {
  if (state.dnsName === undefined)
    throw new KubecontrolError(
      "PRECONDITION",
      `${state.app} has no DNS name: its one colour serves without a weighted record, so there is nothing to switch`,
      { hint: "switch moves the weights of an app behind a load balancer" },
    );
  const cluster = state.colours[to].cluster;
  if (cluster?.status !== "ACTIVE")
    throw new KubecontrolError(
      "NOT_FOUND",
      cluster
        ? `${state.app}'s ${to} colour does not stand: its cluster ${cluster.name} is ${cluster.status}`
        : `${state.app}'s ${to} colour does not stand: it has no cluster`,
      { hint: `build it with an update (kubecontrol update ${state.app}) instead` },
    );
  const live = decideLiveColour(state);
  return {
    from: other(to),
    already: live.kind === "live" && live.colour === to && !live.shifting,
  };
}

/** Whether DNS splits the app's traffic: both colours have weight (a progressive switch part-way). */
export function isSplit(state: AppState): boolean {
  return COLOURS.every((c) => (state.colours[c].record?.weight ?? 0) > 0);
}

/**
 * The live colour an update to `commit` continues from while DNS splits traffic (a progressive
 * switch stopped part-way: killed, or judged and interrupted), given the version each colour
 * runs. The colour that runs `commit` is the one traffic moves to, so an even split (50/50) is
 * read as serving from the other one, and the update carries the shift on from the weights as
 * they are. When neither colour runs `commit`, another update's shift is under way: PRECONDITION
 * (exit 5), since building either colour would rebuild one that serves. Any other state is
 * returned as decideLiveColour read it.
 */
export function liveDuringSplit(
  app: string,
  state: AppState,
  live: LiveColour,
  versions: Record<Colour, string | undefined>,
  commit: string,
): LiveColour {
  if (!isSplit(state)) return live;
  const running = COLOURS.filter((c) => versions[c] === commit);
  const weight = (c: Colour) => state.colours[c].record?.weight ?? 0;
  if (running.length === 0) {
    const each = COLOURS.map(
      (c) => `${c} ${weight(c)} at ${versions[c]?.slice(0, 12) ?? "an unknown version"}`,
    );
    throw new KubecontrolError(
      "PRECONDITION",
      `DNS splits ${app}'s traffic (${each.join(", ")}) and neither colour runs ${commit.slice(0, 12)}: another update's shift is under way`,
      {
        hint: `finish it first (kubecontrol resume ${app}, or kubecontrol update ${app} --version <the version it moves to>), then update to ${commit.slice(0, 12)}`,
      },
    );
  }
  if (running.length === 2 || live.kind === "live") return live;
  // An even split: traffic moves on to the colour that runs the version.
  const from = other(running[0]!);
  return {
    kind: "live",
    colour: from,
    weight: weight(from),
    shifting: true,
    idle: true,
    clusterMissing: state.colours[from].cluster === undefined,
  };
}
