import { KubecontrolError } from "../errors.js";
import { TAG } from "./aws.js";
import type { Colour } from "./names.js";

/**
 * Ownership before action (DESIGN.md, principle 10): a resource found by name is adopted,
 * changed or deleted only when its tags say it is this app's (and, for a colour's resource, this
 * colour's). Names are built so that two apps cannot arrive at the same one (the spec's rules),
 * but a name can still be taken: by hand, by another tool, by an app in another apps directory.
 */

/** Whose a resource must be for a step to act on it. */
export interface Owner {
  app: string;
  /** For colour-scoped resources: the colour too. */
  colour?: Colour | undefined;
}

/** Whose a resource is, by its tags. */
export type Ownership =
  | { state: "ours" }
  | { state: "untagged" }
  | { state: "foreign"; app: string; colour: string | undefined };

/** Reads a resource's kubecontrol tags against who should own it. */
export function ownershipOf(tags: Record<string, string> | undefined, want: Owner): Ownership {
  const app = tags?.[TAG.app];
  const colour = tags?.[TAG.colour];
  if (!app) return { state: "untagged" };
  if (app !== want.app || (want.colour !== undefined && colour !== want.colour))
    return { state: "foreign", app, colour };
  return { state: "ours" };
}

/** Tag that records a run taking over a resource kubecontrol had not made (`--adopt`). */
export const ADOPTED_BY = "kubecontrol:adopted-by";

/** What a step is about to do with a resource it found by name. */
export type Action = "adopt or change" | "delete";

/**
 * Throws unless the resource is `want`'s: NOT_OWNED (exit 6) naming the resource and the owner
 * its tags give, or, for a resource without kubecontrol tags, unless the run adopts (`--adopt`).
 * Returns whether it is being adopted (the caller then writes the plan's tags and ADOPTED_BY).
 */
export function assertOwned(
  what: string,
  tags: Record<string, string> | undefined,
  want: Owner,
  o: { action: Action; adopt?: boolean },
): "ours" | "adopting" {
  const found = ownershipOf(tags, want);
  if (found.state === "ours") return "ours";
  const mine = `${want.app}${want.colour ? ` (${want.colour})` : ""}`;
  if (found.state === "foreign") {
    const theirs = `${found.app}${found.colour ? ` (${found.colour})` : ""}`;
    const sameApp = found.app === want.app;
    throw new KubecontrolError(
      "NOT_OWNED",
      `${what} belongs to ${sameApp ? `${theirs}, not ${mine}` : `app ${theirs}`} by its tags (${TAG.app}=${found.app}${found.colour ? `, ${TAG.colour}=${found.colour}` : ""}): refusing to ${o.action} it for ${mine}`,
      {
        hint: sameApp
          ? "its colour tag says it is the other colour's; fix or remove the resource by hand, then run the command again"
          : `kubecontrol never acts on another app's resources: rename one of the apps (or remove ${found.app}'s resource with kubecontrol teardown/destroy ${found.app}), then run the command again`,
        details: { resource: what, owner: found.app, ownerColour: found.colour, action: o.action },
      },
    );
  }
  if (o.action === "adopt or change" && o.adopt) return "adopting";
  throw new KubecontrolError(
    "NOT_OWNED",
    `${what} exists without kubecontrol's tags (no ${TAG.app}): it was not made by kubecontrol for ${mine}; refusing to ${o.action} it`,
    {
      hint:
        o.action === "delete"
          ? "kubecontrol deletes only what its tags say is the app's; remove it by hand if it should go"
          : "if it is meant to be this app's, run the same command with --adopt to take it over (recorded in its tags and in history); otherwise rename it or the app",
      details: { resource: what, owner: null, action: o.action },
    },
  );
}
