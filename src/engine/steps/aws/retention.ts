import type { Aws } from "../../../aws/create-aws.js";
import { formatAge } from "../../../io/format.js";
import type { Plan } from "../../../plan/plan.js";
import { RETENTION_TAG, retentionOf, retentionTags } from "../../decide/retention.js";
import type { Step } from "../../step.js";
import { awsStep } from "./stack-env.js";

/** The step that marks how long the colour DNS just left is kept (and unmarks the one it serves). */
export const RETENTION = "mark-retention";

/** How long the colour that no longer serves is kept; undefined: it is removed by this run. */
export type Keep = { forever: true } | { forMs: number } | undefined;

interface Needed {
  untag?: string;
  tag?: string;
}

/**
 * After DNS moved to `live`: tags `kept`'s cluster with when it was retired and until when it is
 * kept (`kubecontrol:retired-at`, `kubecontrol:kept-until`), so `gc` removes it once that has
 * passed and no run has to sleep holding the lease; and takes those tags off `live`'s cluster,
 * which serves again. Idempotent: a colour already marked the same way (timed or forever) keeps
 * its first mark, so running the update again does not extend the retention. A mark is written
 * again from now when it is a stale one (left by a run killed between its DNS change and this
 * step, on the colour that then served): when the run says `kept` had weight as it began, or the
 * timed mark has already passed (else gc would remove the colour early, or at once).
 */
export function retentionStep(o: {
  live: Plan;
  kept: Plan;
  keep: Keep;
  aws: Aws;
  dependsOn: string[];
  /**
   * `kept` had DNS weight when this run began (read under its lease): any mark it carries was
   * left from an earlier retirement (a run killed before it unmarked the colour it moved DNS
   * to), so it is written again from now.
   */
  retiring?: boolean;
}): Step {
  const { aws, keep } = o;
  const keys = Object.values(RETENTION_TAG);
  const what = keep
    ? "forever" in keep
      ? `keep ${o.kept.colour} at weight 0 until removed by hand`
      : `keep ${o.kept.colour} at weight 0 for ${formatAge(keep.forMs)}, then gc removes it`
    : `${o.live.colour} serves: no retention mark on it`;
  return awsStep<Needed, string>({
    name: RETENTION,
    description: what,
    dependsOn: o.dependsOn,
    async check() {
      const [live, kept] = await Promise.all([
        aws.eks.describeCluster(o.live.cluster),
        keep ? aws.eks.describeCluster(o.kept.cluster) : undefined,
      ]);
      const needed: Needed = {};
      if (live?.arn && keys.some((k) => live.tags?.[k] !== undefined)) needed.untag = live.arn;
      if (keep && kept?.arn) {
        const marked = retentionOf(kept.tags);
        // A mark on a colour this run retires, or a timed mark already passed, is not this
        // retirement's: the colour kept it while it served (a run killed before it unmarked the
        // colour it moved DNS to). Kept, gc would remove the colour that just lost DNS early.
        if (
          !marked ||
          "forever" in marked !== "forever" in keep ||
          o.retiring ||
          ("until" in marked && marked.until <= Date.now())
        )
          needed.tag = kept.arn;
      }
      if (!needed.untag && !needed.tag)
        return { satisfied: true, reason: keep && !kept ? `${o.kept.colour} has no cluster` : "marked" };
      const reason = [
        needed.untag ? `${o.live.colour} still carries a retention mark` : "",
        needed.tag ? `${o.kept.colour} is not marked` : "",
      ]
        .filter(Boolean)
        .join("; ");
      return { satisfied: false, reason, needed };
    },
    async apply(_ctx, needed) {
      if (needed.untag) await aws.eks.untagResource(needed.untag, keys, `cluster ${o.live.cluster}`);
      if (needed.tag && keep) {
        const tags = retentionTags(Date.now(), keep);
        await aws.eks.tagResource(needed.tag, tags, `cluster ${o.kept.cluster}`);
        return tags[RETENTION_TAG.keptUntil];
      }
      return undefined;
    },
    summarize: (changed, until) =>
      until
        ? `${o.kept.colour} kept ${until === "forever" ? "until removed by hand" : `until ${until}`}`
        : changed
          ? `${o.live.colour} unmarked`
          : "already marked",
  });
}
