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
 * Judges a Deployment. Succeeded: the controller saw the change and every desired replica of
 * the current revision is available (krane's `full` rollout; read from the pods, or from the
 * status as `kubectl rollout status` reads it). Failed: a new pod cannot pull its image,
 * crash-loops or finds no node, or ProgressDeadlineExceeded.
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
  const progressing = conditionsOf(d).find((c) => c.type === "Progressing");
  const pods = newPods(d, view);
  const readyNew = pods.filter(isReady).length;
  // Status counts old pods as available too; the current revision's ready pods are what rolled out.
  const shown = pods.length > 0 ? readyNew : Math.min(available, updated);
  const summary = `${shown}/${want} available, ${updated}/${want} updated`;
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
  if (updated >= want && total <= updated && available >= updated) {
    return { state: "succeeded", summary: `${available}/${want} available` };
  }
  // The status is a summary the controllers write a few hops after the pods change (later still
  // when the controller manager is throttled); the current revision's pods say it first.
  if (fullyRolledOut(d, pods, want)) return { state: "succeeded", summary: `${want}/${want} available` };
  if (total > updated && updated >= want) {
    const old = total - updated;
    return { state: "waiting", summary: `${summary}, ${old} old pod${old === 1 ? "" : "s"} terminating` };
  }
  return { state: "waiting", summary };
}

/**
 * krane's `full` rollout, read from the pods: every desired replica of the current revision is
 * Ready (without minReadySeconds, Ready is available). Old pods may still be draining: scaling
 * them down cannot fail, and `kubectl rollout status`, which also waits for that, ends later.
 */
function fullyRolledOut(d: KubeResource, current: KubeResource[], want: number): boolean {
  if (((d.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0) > 0) return false;
  return current.filter(isReady).length >= want;
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
