import type { KubeResource } from "../client.js";

/** Why a workload failed, in words a test and a runbook can match on. */
export type FailureReason =
  | "ImagePullFailed"
  | "CrashLoop"
  | "ContainerConfigError"
  | "Unschedulable"
  | "NodeNotReady"
  | "ProgressDeadlineExceeded"
  | "NeverReady"
  | "TimedOut";

/** An object's state as its kind judges it (krane's succeeded? failed? still waiting?). */
export type Verdict =
  | { state: "waiting"; summary: string }
  | { state: "succeeded"; summary: string }
  | { state: "failed"; summary: string; reason: FailureReason; message: string; pods?: string[] };

/** What the watches have seen, for the per-kind judges. */
export interface ClusterView {
  object(kind: string, namespace: string, name: string): KubeResource | undefined;
  pods(namespace: string): KubeResource[];
  replicaSets(namespace: string): KubeResource[];
  endpointSlices(namespace: string, service: string): KubeResource[];
  node(name: string): KubeResource | undefined;
  nodes(): KubeResource[];
  now(): number;
}

/** A condition of an object's status. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The status conditions of any object. */
export function conditionsOf(o: KubeResource | undefined): Condition[] {
  return ((o?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
}

/** True when a pod or node reports Ready=True. */
export function isReady(o: KubeResource | undefined): boolean {
  return conditionsOf(o).some((c) => c.type === "Ready" && c.status === "True");
}
