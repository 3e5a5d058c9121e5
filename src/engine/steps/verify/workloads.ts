import { KubecontrolError } from "../../../errors.js";
import type { AppliedObject } from "../../../kube/apply.js";
import type { KubeClient } from "../../../kube/client.js";
import {
  type ObjectOutcome,
  refOf,
  WATCHED_KINDS,
  type WaitOptions,
  type WatchedKind,
  type WatchTarget,
  waitForObjects,
} from "../../../kube/watch/wait-for-objects.js";
import type { KubeObject } from "../../../plan/kubernetes.js";
import type { Step, StepContext, StepRef } from "../../step.js";

/** What a step that applied objects gives: each object as the server answered. */
export interface Applied {
  applied?: AppliedObject[];
}

/** The verification step that judges every workload of the colour. */
export const VERIFY_WORKLOADS = "verify-workloads";

export interface VerifyWorkloadsOptions {
  app: string;
  /** The cluster's client, made once it can be reached. */
  client: () => Promise<KubeClient>;
  /** The planned objects (any image): which Deployments, DaemonSets and Services to judge. */
  objects: KubeObject[];
  /**
   * The step that applied them, when this run applies them: its result names the generations the
   * apply produced. Without it the workloads are judged as they stand.
   */
  applied?: StepRef<Applied | undefined> | undefined;
  dependsOn: string[];
  timeoutMs?: WaitOptions["timeoutMs"];
  graceMs?: number;
  /** What to say after a failure (how to inspect and remove the colour). */
  hint?: string;
}

/**
 * Readiness of every workload as a judgement made on every run (DESIGN.md, principle 9), not a
 * side effect of applying: the check reads the live state whether or not anything was applied
 * (every desired replica of each Deployment's current revision Ready, DaemonSets complete,
 * Services with ready endpoints); what has failed fails the step at once, with its evidence;
 * what is still rolling out is watched until it succeeds, fails or times out. Failing is
 * VERIFY_FAILED (exit 7), so nothing that depends on it (DNS) moves.
 */
export function verifyWorkloadsStep(o: VerifyWorkloadsOptions): Step<WatchTarget[], undefined> {
  const planned = o.objects.filter(
    (x) => (WATCHED_KINDS as readonly string[]).includes(x.kind) && x.metadata.namespace,
  );
  const targetsOf = (ctx: StepContext): WatchTarget[] => {
    // The generation our apply produced, when this run applied: an older one seen in a cache is
    // not this rollout's.
    const applied = o.applied ? ctx.result(o.applied)?.applied : undefined;
    return planned.map((x) => {
      const made = applied?.find(
        (a) => a.kind === x.kind && a.name === x.metadata.name && a.namespace === x.metadata.namespace,
      );
      return {
        kind: x.kind as WatchedKind,
        namespace: x.metadata.namespace!,
        name: x.metadata.name,
        minGeneration: made?.object.metadata?.generation ?? 0,
      };
    });
  };
  const options = {
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
  };
  return {
    name: VERIFY_WORKLOADS,
    description: `every workload of ${o.app} ready (${planned.map((x) => refOf({ kind: x.kind, name: x.metadata.name })).join(", ") || "none"})`,
    dependsOn: o.dependsOn,
    async check(ctx) {
      if (planned.length === 0) return { satisfied: true, reason: "no workloads to judge" };
      const targets = targetsOf(ctx);
      const report = await waitForObjects(await o.client(), targets, {
        ...options,
        once: true,
        failFast: false,
        signal: ctx.signal,
      });
      const failed = report.outcomes.filter((x) => x.outcome === "failed" || x.outcome === "timed-out");
      if (failed.length > 0) throw verificationFailed(ctx, failed, o.hint);
      const waiting = report.outcomes.filter((x) => x.outcome !== "succeeded");
      if (waiting.length === 0)
        return { satisfied: true, reason: `all ${targets.length} ready`, value: undefined };
      return {
        satisfied: false,
        reason: waiting.map((x) => `${x.ref} (${x.summary})`).join(", "),
        needed: targets,
      };
    },
    async wait(ctx) {
      const report = await waitForObjects(await o.client(), targetsOf(ctx), {
        ...options,
        signal: ctx.signal,
        onWaiting: (reason) => ctx.waiting(reason),
      });
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const failed = report.outcomes.filter((x) => x.outcome === "failed" || x.outcome === "timed-out");
      if (failed.length > 0 || !report.ok) throw verificationFailed(ctx, failed, o.hint);
      return undefined;
    },
    summarize: () => `all ${planned.length} ready`,
  };
}

/** VERIFY_FAILED naming each workload that failed or timed out, its evidence logged. */
function verificationFailed(
  ctx: StepContext,
  bad: ObjectOutcome[],
  hint: string | undefined,
): KubecontrolError {
  for (const b of bad) for (const line of b.evidence) ctx.log("warn", line);
  const what = bad
    .map((b) => `${b.ref} ${b.outcome === "failed" ? "failed" : "timed out"}: ${b.reason}: ${b.message}`)
    .join("; ");
  return new KubecontrolError(
    "VERIFY_FAILED",
    `verification failed: ${what || "a workload never became ready"}`,
    {
      ...(hint ? { hint } : {}),
      details: { failed: bad.map((b) => ({ ref: b.ref, reason: b.reason, evidence: b.evidence })) },
    },
  );
}
