import type { KubeResource } from "../client.js";
import { podProblem } from "./pod-problems.js";
import type { ClusterView, Verdict } from "./verdict.js";
import type { JudgeOptions } from "./watch-deployment.js";

interface DaemonSetStatus {
  observedGeneration?: number;
  desiredNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
}

/** Judges a DaemonSet: every node it should run on has an updated, available pod; pod problems fail it. */
export function judgeDaemonSet(ds: KubeResource, view: ClusterView, o: JudgeOptions): Verdict {
  const generation = ds.metadata?.generation ?? 0;
  const status = (ds.status ?? {}) as DaemonSetStatus;
  if (generation < (o.minGeneration ?? 0) || (status.observedGeneration ?? 0) < generation) {
    return { state: "waiting", summary: "waiting for the controller to see the change" };
  }
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  const summary = `${available}/${desired} available, ${updated}/${desired} updated`;
  const pods = currentPods(ds, view);
  const problems = pods.map((p) => podProblem(p, view, o)).filter((p) => p !== undefined);
  if (problems.length > 0) {
    return {
      state: "failed",
      summary,
      reason: problems[0]!.reason,
      message: problems[0]!.message,
      pods: pods.map((p) => p.metadata?.name ?? ""),
    };
  }
  if (updated < desired || available < desired) return { state: "waiting", summary };
  return { state: "succeeded", summary: `${available}/${desired} available` };
}

/** The DaemonSet's pods of its current template generation. */
function currentPods(ds: KubeResource, view: ClusterView): KubeResource[] {
  const generation = String(ds.metadata?.generation ?? "");
  return view
    .pods(ds.metadata?.namespace ?? "")
    .filter(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.metadata?.ownerReferences?.some((r) => r.uid === ds.metadata?.uid) &&
        p.metadata?.labels?.["pod-template-generation"] === generation,
    );
}
