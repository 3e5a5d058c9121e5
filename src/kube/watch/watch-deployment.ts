import type { KubeResource } from "../client.js";
import { podPendingReason, podProblem } from "./pod-problems.js";
import { type ClusterView, conditionsOf, isReady, type Verdict } from "./verdict.js";

const REVISION = "deployment.kubernetes.io/revision";

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

export interface JudgeOptions {
  /** The generation our change produced: an older one in the cache is not the rollout's. */
  minGeneration?: number;
  graceMs: number;
}

/**
 * Judges a Deployment as `kubectl rollout status` does (observed generation, updated, old
 * replicas gone, available; ProgressDeadlineExceeded fails) and, sooner, by its new pods:
 * an image that cannot be pulled, a crash loop or no node to run on fail it at once.
 */
export function judgeDeployment(d: KubeResource, view: ClusterView, o: JudgeOptions): Verdict {
  const generation = d.metadata?.generation ?? 0;
  const status = (d.status ?? {}) as DeploymentStatus;
  if (generation < (o.minGeneration ?? 0) || (status.observedGeneration ?? 0) < generation) {
    return { state: "waiting", summary: "waiting for the controller to see the change" };
  }
  const want = (d.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const summary = `${Math.min(available, updated)}/${want} available, ${updated}/${want} updated`;
  const progressing = conditionsOf(d).find((c) => c.type === "Progressing");
  const pods = newPods(d, view);
  const problems = pods.map((p) => podProblem(p, view, o)).filter((p) => p !== undefined);
  if (problems.length > 0) {
    const first = problems[0]!;
    return {
      state: "failed",
      summary,
      reason: first.reason,
      message: `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more pods)` : ""}`,
      pods: pods.map((p) => p.metadata?.name ?? ""),
    };
  }
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    const pending = pods.filter((p) => !isReady(p)).map(podPendingReason);
    return {
      state: "failed",
      summary,
      reason: "ProgressDeadlineExceeded",
      message: `${progressing.message ?? "progress deadline exceeded"}${pending.length ? `; ${pending[0]}` : ""}`,
      pods: pods.map((p) => p.metadata?.name ?? ""),
    };
  }
  if (updated < want) return { state: "waiting", summary };
  if (total > updated)
    return {
      state: "waiting",
      summary: `${summary}, ${total - updated} old pod${total - updated === 1 ? "" : "s"} terminating`,
    };
  if (available < updated) return { state: "waiting", summary };
  return { state: "succeeded", summary: `${available}/${want} available` };
}

/** The pods of the Deployment's current ReplicaSet (the one of its current revision). */
export function newPods(d: KubeResource, view: ClusterView): KubeResource[] {
  const ns = d.metadata?.namespace ?? "";
  const revision = d.metadata?.annotations?.[REVISION];
  const owned = view
    .replicaSets(ns)
    .filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === d.metadata?.uid));
  const current = owned.find(
    (rs) => revision !== undefined && rs.metadata?.annotations?.[REVISION] === revision,
  );
  if (!current) return [];
  const uid = current.metadata?.uid;
  return view
    .pods(ns)
    .filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.uid === uid));
}
