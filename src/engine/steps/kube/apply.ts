import { type AppliedObject, applyObjects } from "../../../kube/apply.js";
import type { KubeClient } from "../../../kube/client.js";
import { type PrunedObject, pruneObjects } from "../../../kube/prune.js";
import type { KubeObject } from "../../../plan/kubernetes.js";
import type { Step } from "../../step.js";

export interface ApplyStepOptions {
  app: string;
  /** Delete the app's objects the plan no longer has. */
  prune?: boolean;
}

/** What the step did: objects applied and pruned. */
export interface ApplyStepResult {
  applied: AppliedObject[];
  pruned: PrunedObject[];
}

/**
 * The Kubernetes objects of a deploy as one step: check asks the server for a dry run (and what
 * prune would delete), apply server-side applies and prunes. Whether the workloads are ready is
 * judged by a verification step of its own, on every run (src/engine/steps/verify/workloads.ts).
 */
export function ensureKubeObjectsStep(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyStepOptions,
): Step<string[], ApplyStepResult> {
  const prune = (dryRun: boolean) =>
    options.prune ? pruneObjects(client, { app: options.app, keep: objects, dryRun }) : Promise.resolve([]);
  return {
    name: "ensure-kube-objects",
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
      return { satisfied: false, reason: what.join(", "), needed: what };
    },
    async apply(ctx) {
      const applied = await applyObjects(client, objects, { signal: ctx.signal });
      const pruned = await prune(false);
      for (const p of pruned) ctx.log("info", `pruned ${p.ref}`);
      return { applied, pruned };
    },
    summarize(changed, result) {
      if (!changed || !result) return "already as planned";
      const counts = (a: AppliedObject["action"]) => result.applied.filter((x) => x.action === a).length;
      return `${counts("created")} created, ${counts("configured")} changed, ${counts("unchanged")} unchanged, ${result.pruned.length} pruned`;
    },
  };
}
