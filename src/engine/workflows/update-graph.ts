import { formatAge } from "../../io/format.js";
import { progressDeadlineOf } from "../../plan/kubernetes.js";
import type { Colour } from "../../plan/names.js";
import { planApp } from "../../plan/plan.js";
import type { UpdateDecision } from "../decide/update.js";
import { colourPlans } from "../observe/live-state.js";
import type { Step } from "../step.js";
import { judgeStepName, progressiveDnsSteps } from "../steps/aws/progressive-dns.js";
import { type Keep, RETENTION, retentionStep } from "../steps/aws/retention.js";
import { DRAIN, dnsRecordOf, drainStep, SWITCH_DNS, switchDnsStep } from "../steps/aws/switch-dns.js";
import { colourDeletionSteps, teardownSteps } from "../steps/aws/teardown.js";
import { type ColourSource, colourSteps } from "./create-graph.js";
import { colourJudgement } from "./judge-colour.js";

/** How an update moves traffic and what becomes of the old colour. */
export interface UpdateOptions {
  /** Leave the old colour in place (weight 0) with no expiry instead of tearing it down. */
  keepOld: boolean;
  /**
   * Keep the old colour at weight 0 this long after the switch (the spec's deploy.keepOldColourFor)
   * and end the run: `gc` removes it once the time has passed. 0: drain, then tear it down now.
   */
  keepForMs: number;
  /** How long to wait after the switch before the old colour is torn down (when it is not kept). */
  drainMs: number;
  /**
   * How long resolvers may keep an old answer (config resolverCache, the record's TTL unless
   * set): waited at each of deploy.dnsSteps before the new colour is judged again.
   */
  shiftWindowMs: number;
}

/** How long the old colour stays after the switch; undefined when this run tears it down. */
export function keepOf(i: Pick<UpdateOptions, "keepOld" | "keepForMs">): Keep {
  if (i.keepOld) return { forever: true };
  return i.keepForMs > 0 ? { forMs: i.keepForMs } : undefined;
}

/** One line saying what an update is about to do, and why. */
export function updateSummary(
  i: Pick<UpdateOptions, "keepOld" | "keepForMs">,
  d: UpdateDecision,
  commit: string,
): string {
  const v = (s: string | undefined) => (s ? s.slice(0, 12) : "an unknown version");
  const keep = keepOf(i);
  const rest = !keep
    ? `, then ${d.old} removed`
    : "forever" in keep
      ? `, ${d.old} kept`
      : `, ${d.old} kept for ${formatAge(keep.forMs)} (then gc removes it)`;
  const dns = d.dnsSteps.length
    ? `DNS in steps (${[...d.dnsSteps, 100].join("%, ")}%, each judged)`
    : "all of DNS";
  return d.mode === "deploy"
    ? `${d.live} is live at ${v(d.liveVersion)}: ${d.target} is built at ${v(commit)}, verified, and given ${dns}${rest}`
    : `${d.live} is live and already at ${v(commit)}: finishing (${dns} on ${d.target}${rest})`;
}

/** How to look at, and remove, a colour an update left behind. */
export function idleColourHint(app: string, colour: Colour, live: Colour): string {
  return `${live} still serves ${app}; inspect ${colour} with \`kubecontrol kubeconfig ${app} --colour ${colour}\`, remove it with \`kubecontrol teardown ${app} --colour ${colour}\`, or run the update again`;
}

/**
 * The step graph for a decision: (deploy) the target colour as create builds it, without its
 * DNS step; the switch, after every one of those steps; the drain; the old colour's teardown,
 * each of its steps after the drain.
 */
export function updateSteps(
  i: ColourSource &
    Pick<UpdateOptions, "keepOld" | "keepForMs" | "drainMs"> &
    Partial<Pick<UpdateOptions, "shiftWindowMs">>,
  d: UpdateDecision,
  commit: string,
  runId: string,
  deployerArn: string,
): Step[] {
  const targetPlan = planApp({ app: i.app, colour: d.target, version: commit });
  // Names and tags do not depend on the version: the old colour's plan is only what to remove.
  const oldPlan = colourPlans(i.app)[d.old];
  const record = dnsRecordOf(targetPlan);
  const steps: Step[] = [];
  if (d.mode === "deploy") {
    // The target colour as create makes it, without its DNS step: DNS moves in the switch below.
    steps.push(
      ...colourSteps(i, {
        plan: targetPlan,
        commit,
        runId,
        deployerArn,
        teardownHint: idleColourHint(i.app.name, d.target, d.live),
      }),
    );
  }
  // DNS moves only once everything of the target colour succeeded (verification included).
  const built = steps.map((s) => s.name);
  let beforeTeardown = built;
  if (record) {
    // deploy.dnsSteps: the target's shares before all of it, each judged again after a wait.
    const shifts = d.dnsSteps.length
      ? progressiveDnsSteps({
          to: targetPlan,
          from: oldPlan,
          aws: i.aws,
          percents: d.dnsSteps,
          windowMs: i.shiftWindowMs ?? 0,
          judge: colourJudgement(i, targetPlan, idleColourHint(i.app.name, d.target, d.old)),
          judgeTimeoutMs: 3 * progressDeadlineOf(i.app) * 1000,
          hint: `all of DNS is back on ${d.old}; ${idleColourHint(i.app.name, d.target, d.old)}`,
          dependsOn: built,
          ...(i.stack?.pace ? { pace: i.stack.pace } : {}),
        })
      : [];
    steps.push(...shifts);
    const lastJudged = d.dnsSteps.filter((p) => p > 0 && p < 100).at(-1);
    steps.push(
      switchDnsStep({
        to: targetPlan,
        from: oldPlan,
        aws: i.aws,
        dependsOn: lastJudged === undefined ? built : [judgeStepName(lastJudged)],
        ...(i.stack?.pace ? { pace: i.stack.pace } : {}),
      }),
    );
    // The colour that serves carries no retention mark; the one kept carries when it goes.
    const keep = keepOf(i);
    steps.push(
      retentionStep({
        live: targetPlan,
        kept: oldPlan,
        keep,
        aws: i.aws,
        dependsOn: [SWITCH_DNS],
        // A deploy retires the colour that had weight as it began: a mark it carries is an older one.
        retiring: d.mode === "deploy" && d.live === d.old,
      }),
    );
    if (keep) return steps;
    steps.push(drainStep({ old: oldPlan, aws: i.aws, drainMs: i.drainMs, dependsOn: [RETENTION] }));
    beforeTeardown = [DRAIN];
  } else if (i.keepOld) return steps;
  // The network is the app's, not the colour's: a deploy's build steps already find it.
  const removal = (d.mode === "deploy" ? colourDeletionSteps : teardownSteps)(
    oldPlan,
    i.aws,
    runId,
    i.stack ?? {},
  );
  for (const s of removal) steps.push({ ...s, dependsOn: [...(s.dependsOn ?? []), ...beforeTeardown] });
  return steps;
}
