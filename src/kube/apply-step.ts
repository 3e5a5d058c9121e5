import type { Step } from "../engine/step.js";
import { KubecontrolError } from "../errors.js";
import type { KubeObject } from "../plan/kubernetes.js";
import { type AppliedObject, applyObjects } from "./apply.js";
import type { KubeClient } from "./client.js";
import { type PrunedObject, pruneObjects } from "./prune.js";
import {
  refOf,
  WATCHED_KINDS,
  type WaitOptions,
  type WatchedKind,
  waitForObjects,
} from "./watch/wait-for-objects.js";

export interface ApplyStepOptions {
  app: string;
  /** Delete the app's objects the plan no longer has. */
  prune?: boolean;
  timeoutMs?: WaitOptions["timeoutMs"];
  graceMs?: number;
}

/** What the step did: objects applied and pruned. */
export interface ApplyStepResult {
  applied: AppliedObject[];
  pruned: PrunedObject[];
}

/**
 * The Kubernetes half of a deploy as one step: check asks the server for a dry run (and what
 * prune would delete), apply server-side applies and prunes, wait watches the workloads and
 * Services until they succeed, fail (with evidence) or time out.
 */
export function ensureKubeObjectsStep(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyStepOptions,
): Step<undefined, ApplyStepResult> {
  const prune = (dryRun: boolean) =>
    options.prune ? pruneObjects(client, { app: options.app, keep: objects, dryRun }) : Promise.resolve([]);
  return {
    name: "ensureKubeObjects",
    description: `apply ${objects.length} Kubernetes objects of ${options.app}${options.prune ? " and prune the rest" : ""}`,
    async check() {
      const [dry, doomed] = await Promise.all([applyObjects(client, objects, { dryRun: true }), prune(true)]);
      const changing = dry.filter((d) => d.action !== "unchanged");
      if (changing.length === 0 && doomed.length === 0) {
        return { satisfied: true, reason: `all ${objects.length} objects are as planned` };
      }
      const what = [
        ...changing.map((c) => `${c.action === "created" ? "create" : "change"} ${c.ref}`),
        ...doomed.map((p) => `prune ${p.ref}`),
      ];
      return { satisfied: false, reason: what.join(", ") };
    },
    async apply(ctx) {
      const applied = await applyObjects(client, objects, { signal: ctx.signal });
      const pruned = await prune(false);
      for (const p of pruned) ctx.log("info", `pruned ${p.ref}`);
      return { applied, pruned };
    },
    async wait(ctx, result) {
      const targets = (result?.applied ?? [])
        .filter((a) => (WATCHED_KINDS as readonly string[]).includes(a.kind) && a.namespace)
        .map((a) => ({
          kind: a.kind as WatchedKind,
          namespace: a.namespace!,
          name: a.name,
          minGeneration: a.object.metadata?.generation ?? 0,
        }));
      const report = await waitForObjects(client, targets, {
        signal: ctx.signal,
        onWaiting: (reason) => ctx.waiting(reason),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      });
      if (report.ok) return result;
      const bad = report.outcomes.filter((o) => o.outcome === "failed" || o.outcome === "timed-out");
      for (const o of bad) for (const line of o.evidence) ctx.log("warn", line);
      throw new KubecontrolError(
        bad.some((o) => o.outcome === "failed") ? "STEP_FAILED" : "TIMEOUT",
        bad
          .map(
            (o) =>
              `${refOf(o)} ${o.outcome === "failed" ? "failed" : "timed out"}: ${o.reason}: ${o.message}`,
          )
          .join("; "),
        {
          retryable: bad.every((o) => o.outcome === "timed-out"),
          hint: "the evidence above shows events, container states and logs; fix the spec or image and run again",
          details: { failed: bad.map((o) => ({ ref: o.ref, reason: o.reason, evidence: o.evidence })) },
        },
      );
    },
    summarize(changed, result) {
      if (!changed || !result) return "already as planned";
      const counts = (a: AppliedObject["action"]) => result.applied.filter((x) => x.action === a).length;
      return `${counts("created")} created, ${counts("configured")} changed, ${counts("unchanged")} unchanged, ${result.pruned.length} pruned; all available`;
    },
  };
}
