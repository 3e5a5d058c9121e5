import type { Aws } from "../../aws/create-aws.js";
import { connectCluster, connectOnce } from "../../kube/cluster-access.js";
import type { Colour } from "../../plan/names.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { decideSwitch } from "../decide/live-colour.js";
import { type AppState, colourPlans, observeApp } from "../observe/live-state.js";
import { runningVersion } from "../observe/running-version.js";
import type { Step } from "../step.js";
import { type Keep, retentionStep } from "../steps/aws/retention.js";
import { SWITCH_DNS, switchDnsStep } from "../steps/aws/switch-dns.js";
import { judgeColourSteps, VERIFY_CHECKS } from "../steps/verify/judge-colour.js";
import { type DryRunFindings, planGraph, readOnly } from "./dry-run.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** Everything `switch` needs; the CLI builds it from flags, configuration and the environment. */
export interface SwitchInput extends RunContext {
  app: ResolvedKubeApp;
  /** The colour that gets all of DNS. */
  to: Colour;
  aws: Aws;
  /** How long the colour DNS leaves is kept at weight 0 (gc removes it after). */
  keep: NonNullable<Keep>;
  dryRun: boolean;
  awsEndpoint?: string | undefined;
  requestTimeoutMs?: number | undefined;
  verifyHookFile?: string | undefined;
}

export interface SwitchOutcome extends WorkflowOutcome {
  to: Colour;
  from: Colour;
  /** The version `to` runs, when its Deployments say. */
  version: string | undefined;
  /** `to` already had all of DNS: nothing moved. */
  already: boolean;
  keep: NonNullable<Keep>;
  dryRun?: DryRunFindings;
}

/**
 * `switch`: moves all of an app's DNS to a colour that stands (a rollback to the kept colour, or
 * forward again), after judging it as a deployment would (workloads, targets, the spec's HTTP
 * checks and hook), in one Route 53 change batch, waiting for INSYNC; then marks the colour it
 * left as kept for the retention (gc removes it after). Leased and recorded. Coded errors:
 * PRECONDITION (no DNS name), NOT_FOUND (the colour does not stand), VERIFY_FAILED (it failed its
 * judgement: DNS untouched), LOCKED, STEP_FAILED, CANCELLED.
 */
export async function switchApp(i: SwitchInput): Promise<SwitchOutcome> {
  const seen = await observeApp(i.app, i.aws);
  const first = decideSwitch(seen, i.to);
  const plans = colourPlans(i.app);
  const version = await runningVersion(i, plans[i.to]);
  const outcome = (o: WorkflowOutcome, already: boolean) => ({
    ...o,
    to: i.to,
    from: first.from,
    version,
    already,
    keep: i.keep,
  });
  if (i.dryRun)
    return readOnly(async () => {
      const { report, findings } = await planGraph(switchSteps(i, retiring(seen, first.from)), i);
      return { ...outcome(outcomeOf("dry-run", report), first.already), dryRun: findings };
    });
  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "switch",
      version: version ?? null,
      colour: i.to,
      planHash: null,
      options: "forever" in i.keep ? { keepOld: true } : { keepForMs: i.keep.forMs },
    }),
    async (run) => {
      // What stands is read again now the lease is held: another run may have moved it.
      const now = await observeApp(i.app, i.aws);
      const d = decideSwitch(now, i.to);
      const report = await run.runGraph(switchSteps(i, retiring(now, d.from)), {
        concurrency: i.concurrency,
        hint: `DNS moves only once ${i.to} passes its judgement; run the same switch again to continue`,
      });
      return outcome(outcomeOf(run.runId, report), d.already);
    },
  );
}

/** Whether `from` has DNS weight: this switch retires it (a mark it carries is an older one). */
function retiring(state: AppState, from: Colour): boolean {
  return (state.colours[from].record?.weight ?? 0) > 0;
}

/**
 * Judge `to`, move all of DNS to it once judged, then mark the colour it left as kept (`retiringFrom`:
 * it had weight when the run began, so a mark it carries is written again).
 */
export function switchSteps(i: SwitchInput, retiringFrom = false): Step[] {
  const plans = colourPlans(i.app);
  const to = plans[i.to];
  const from = plans[i.to === "blue" ? "green" : "blue"];
  const client = connectOnce(() =>
    connectCluster({
      clusterName: to.cluster,
      region: to.region,
      ...(i.awsEndpoint ? { awsEndpoint: i.awsEndpoint } : {}),
      requestTimeoutMs: i.requestTimeoutMs,
    }),
  );
  const judged = judgeColourSteps({
    app: i.app,
    plan: to,
    aws: i.aws,
    client,
    // Nothing is applied: the objects as they are are judged.
    dependsOn: [],
    verifyHookFile: i.verifyHookFile,
    hint: `DNS was not changed: ${from.colour} still serves ${i.app.name} if it did; inspect ${i.to} with \`kubecontrol kubeconfig ${i.app.name} --colour ${i.to}\``,
  });
  return [
    ...judged,
    switchDnsStep({ to, from, aws: i.aws, dependsOn: [VERIFY_CHECKS] }),
    retentionStep({
      live: to,
      kept: from,
      keep: i.keep,
      aws: i.aws,
      dependsOn: [SWITCH_DNS],
      retiring: retiringFrom,
    }),
  ];
}
