import { formatAge as ago } from "../../io/format.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import type { AppState } from "../observe/live-state.js";
import { decideLiveColour } from "./live-colour.js";

/**
 * The tags that say how long a colour that no longer serves is kept, set on its EKS cluster when
 * DNS moves away from it (by `update` with a retention, `update --keep-old`, or `switch`) and
 * taken off when DNS moves back to it. Read by `status` and `gc`.
 */
export const RETENTION_TAG = {
  /** When DNS moved away from the colour (ISO 8601). */
  retiredAt: "kubecontrol:retired-at",
  /** Until when it is kept (ISO 8601), or `forever` (`update --keep-old`: only a person removes it). */
  keptUntil: "kubecontrol:kept-until",
} as const;

export const KEPT_FOREVER = "forever";

/** How long a colour is kept once DNS moves away from it: a time, or until a person removes it. */
export type Retention = { until: number } | { forever: true };

/** The retention tags for a colour retired at `now`. */
export function retentionTags(
  now: number,
  keep: { forever: true } | { forMs: number },
): Record<string, string> {
  return {
    [RETENTION_TAG.retiredAt]: new Date(now).toISOString(),
    [RETENTION_TAG.keptUntil]: "forever" in keep ? KEPT_FOREVER : new Date(now + keep.forMs).toISOString(),
  };
}

/** An ISO 8601 time with a zone, as retentionTags writes it (Date.parse alone reads "1" as 2001). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A kept-until value as a time, or undefined when it is not an ISO 8601 time. */
function parseUntil(value: string): number | undefined {
  const at = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** A cluster's retention, read from its tags; undefined when it carries none (or an unreadable one). */
export function retentionOf(tags: Record<string, string> | undefined): Retention | undefined {
  const until = tags?.[RETENTION_TAG.keptUntil];
  if (until === undefined) return undefined;
  if (until === KEPT_FOREVER) return { forever: true };
  const at = parseUntil(until);
  return at === undefined ? undefined : { until: at };
}

/**
 * What is wrong with a cluster's kept-until tag, for people (the tag, its value, what it should
 * be), or undefined when it has none or a readable one.
 */
export function unreadableRetention(tags: Record<string, string> | undefined): string | undefined {
  const until = tags?.[RETENTION_TAG.keptUntil];
  if (until === undefined || retentionOf(tags)) return undefined;
  return `its ${RETENTION_TAG.keptUntil} tag ${JSON.stringify(until)} is not a time (expected an ISO 8601 time such as 2026-12-05T12:00:00Z, or ${KEPT_FOREVER})`;
}

/** What gc does with one colour that stands, and why (the why is shown to people). */
export interface ColourFate {
  colour: Colour;
  remove: boolean;
  why: string;
}

export interface GcPolicy {
  now: number;
  /** How old an idle colour without retention tags (never switched to) must be to be removed. */
  idleAfterMs: number;
  /**
   * Whether the history says the colour served: the last recorded run that targeted it (create,
   * update, switch or rollout; a switch that did not succeed is passed over) succeeded. Such a colour without retention tags was kept by a
   * kubecontrol that did not tag yet, and is left for a person.
   */
  servedBefore?: (colour: Colour) => boolean;
}

/**
 * What gc does with each colour of an app whose cluster stands (pure: the state and the clock are
 * all it reads). Only a colour that gets no DNS weight while the other serves is ever removed:
 * past the time its retention tag names, or, without one (an update that failed before its
 * switch), once its cluster is older than `idleAfterMs`. A colour kept `forever`, one still
 * inside its retention, one whose kept-until tag is not a time (named, for a person to mend),
 * and every colour of an app that no colour clearly serves (an unfinished create, an even split)
 * are kept.
 */
export function decideGc(state: AppState, policy: GcPolicy): ColourFate[] {
  const live = decideLiveColour(state);
  const fates: ColourFate[] = [];
  for (const colour of COLOURS) {
    const c = state.colours[colour];
    if (!c.cluster) continue;
    const weight = c.record?.weight ?? 0;
    const keep = (why: string) => fates.push({ colour, remove: false, why });
    if (live.kind === "live" && live.colour === colour) {
      keep("live");
      continue;
    }
    if (weight > 0) {
      keep(`has DNS weight ${weight}`);
      continue;
    }
    if (live.kind !== "live") {
      keep(`no colour serves ${state.app} (${live.why}): nothing of it is removed`);
      continue;
    }
    const unreadable = unreadableRetention(c.cluster.tags);
    if (unreadable) {
      // It was marked when DNS left it: the mark is not gc's to guess.
      keep(`${unreadable}: set it right or remove the colour with teardown`);
      continue;
    }
    const retention = retentionOf(c.cluster.tags);
    if (retention && "forever" in retention) {
      keep("kept with --keep-old: no expiry (remove it with teardown)");
      continue;
    }
    if (retention) {
      const at = new Date(retention.until).toISOString();
      if (retention.until > policy.now) keep(`kept until ${at} (${ago(retention.until - policy.now)} left)`);
      else
        fates.push({
          colour,
          remove: true,
          why: `kept until ${at}, ${ago(policy.now - retention.until)} ago`,
        });
      continue;
    }
    if (policy.servedBefore?.(colour)) {
      keep("served before and carries no retention mark: remove it with teardown");
      continue;
    }
    const made = c.cluster.createdAt;
    if (made === undefined) {
      keep("idle, of unknown age");
      continue;
    }
    const age = policy.now - made;
    if (age >= policy.idleAfterMs)
      fates.push({
        colour,
        remove: true,
        why: `idle and never switched to (a failed update?), made ${ago(age)} ago`,
      });
    else keep(`idle, made ${ago(age)} ago: removed once ${ago(policy.idleAfterMs)} old`);
  }
  return fates;
}
