import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { HistoryStore } from "../../history/types.js";
import { TAG } from "../../plan/aws.js";
import type { DnsRecord } from "../../plan/aws-types.js";
import type { Colour } from "../../plan/names.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { type ColourFate, decideGc, type GcPolicy } from "../decide/retention.js";
import { colourPlans, observeApp } from "../observe/live-state.js";
import type { Step } from "../step.js";
import type { StackOptions } from "../steps/aws/colour-stack.js";
import { findOrphans, type Orphan, orphanDeletionSteps, type SweepInput } from "../steps/aws/orphan-sweep.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { teardownSteps } from "../steps/aws/teardown.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** What gc would do with one app: each standing colour's fate, and what is tagged for it outside its plans. */
export interface GcAppPlan {
  app: string;
  colours: ColourFate[];
  orphans: Orphan[];
}

/** Whether a plan removes anything. */
export function removesAnything(p: GcAppPlan): boolean {
  return p.orphans.length > 0 || p.colours.some((c) => c.remove);
}

/** Both colours' plans as the orphan sweep's input: what the spec accounts for. */
function sweepOf(app: ResolvedKubeApp): SweepInput {
  const plans = Object.values(colourPlans(app));
  const record = plans[0]!.aws.find((r): r is DnsRecord => r.kind === "route53-record");
  return { app: app.name, livePlans: plans, ...(record ? { record } : {}) };
}

/** The commands after whose success a colour has served. */
const SERVING = new Set(["create", "update", "switch", "rollout"]);

/**
 * Whether each colour served, by the history: the last run recorded for it (of create, update,
 * switch or rollout) succeeded. A switch that did not succeed is passed over: it builds nothing,
 * so a switch back refused by the judgement (or killed) says nothing of whether the colour served.
 */
async function servedBefore(store: HistoryStore, app: string): Promise<(c: Colour) => boolean> {
  const runs = await store.listRuns({ app, limit: 200 });
  const succeeded = (r: { result: string }) => r.result === "succeeded" || r.result === "no-op";
  const last = (c: Colour) =>
    runs.find(
      (r) =>
        r.colour === c &&
        SERVING.has(r.command) &&
        r.result !== "running" &&
        (r.command !== "switch" || succeeded(r)),
    );
  return (c) => {
    const r = last(c);
    return r !== undefined && succeeded(r);
  };
}

/** What gc would remove of `app` and why (read-only). */
export async function planGc(
  app: ResolvedKubeApp,
  aws: Aws,
  store: HistoryStore,
  policy: Omit<GcPolicy, "servedBefore">,
): Promise<GcAppPlan> {
  const [state, orphans, served] = await Promise.all([
    observeApp(app, aws),
    findOrphans(aws, sweepOf(app)),
    servedBefore(store, app.name),
  ]);
  return { app: app.name, colours: decideGc(state, { ...policy, servedBefore: served }), orphans };
}

/** A cluster kubecontrol made for an app that is not in the apps directory: listed, never touched. */
export interface UnknownCluster {
  cluster: string;
  app: string;
  colour: string | undefined;
}

/** The clusters tagged for an app that `known` does not hold (read-only). */
export async function unknownClusters(aws: Aws, known: ReadonlySet<string>): Promise<UnknownCluster[]> {
  const found: UnknownCluster[] = [];
  const names = (await aws.eks.listClusters()).filter((n) => n.startsWith("kc-"));
  const described = await Promise.all(names.map((n) => aws.eks.describeCluster(n)));
  names.forEach((cluster, i) => {
    const app = described[i]?.tags?.[TAG.app];
    if (app && !known.has(app)) found.push({ cluster, app, colour: described[i]?.tags?.[TAG.colour] });
  });
  return found;
}

export interface GcInput extends RunContext {
  app: ResolvedKubeApp;
  aws: Aws;
  policy: Omit<GcPolicy, "servedBefore">;
  stack?: StackOptions;
}

export interface GcOutcome extends WorkflowOutcome {
  /** What was decided under the lease (it may differ from the listing: another run may have moved DNS). */
  plan: GcAppPlan;
}

/**
 * `gc` of one app, leased and recorded: what stands is read again under the lease and decided
 * again (the listing shown before may be stale), each colour to remove is checked to be the
 * app's by its tags and torn down as `teardown` does, and the orphans are deleted. A colour with
 * DNS weight is never removed: decideGc keeps it, decided on what is read under the lease.
 */
export async function gcApp(i: GcInput): Promise<GcOutcome> {
  const plans = colourPlans(i.app);
  return recordedWorkflow(
    recordedRunOptions(i, { command: "gc", version: null, colour: null, planHash: null }),
    async (run) => {
      const plan = await planGc(i.app, i.aws, i.store, i.policy);
      const removed = plan.colours.filter((c) => c.remove).map((c) => c.colour);
      for (const colour of removed)
        await assertPlanOwned(
          i.aws,
          plans[colour],
          plans[colour].aws.filter((r) => r.scope === "colour"),
          { adopt: false, action: "delete" },
        );
      const report = await run.runGraph(gcSteps(i, removed, plan.orphans, run.runId), {
        concurrency: i.concurrency,
        hint: `run gc again to finish: kubecontrol gc ${i.app.name}`,
      });
      return { ...outcomeOf(run.runId, report), plan };
    },
  );
}

/** The teardown graph of each colour removed (names carry the colour) and the orphans' deletion. */
function gcSteps(i: GcInput, colours: Colour[], orphans: Orphan[], runId: string): Step[] {
  if (colours.length > 1)
    // decideGc never removes both: one colour serves whenever one is removed.
    throw new KubecontrolError("INTERNAL", `gc decided to remove both colours of ${i.app.name}`);
  const plans = colourPlans(i.app);
  const stack = i.stack ?? {};
  return [
    ...colours.flatMap((c) => teardownSteps(plans[c], i.aws, runId, stack)),
    ...orphanDeletionSteps(i.aws, orphans, sweepOf(i.app), stack),
  ];
}
