import type { KubeResource } from "../client.js";
import { type ClusterView, conditionsOf, type FailureReason, isReady } from "./verdict.js";

export interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { reason?: string; exitCode?: number; message?: string };
  };
  lastState?: { terminated?: { reason?: string; exitCode?: number; message?: string } };
}

/** A pod that will not become ready by waiting: what is wrong and the words to say it. */
export interface PodProblem {
  reason: FailureReason;
  message: string;
}

const IMAGE_PULL = new Set([
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
]);
const CONFIG = new Set(["CreateContainerConfigError", "CreateContainerError"]);

export interface PodProblemOptions {
  /** How long a pod may stay unschedulable, or not ready on a NotReady node, before it counts as failed. */
  graceMs: number;
}

/**
 * Judges one pod: image pulls that fail, containers that crash, configuration the kubelet
 * cannot use, no node to run on, or a node that stopped being ready. Undefined when the pod
 * may still become ready.
 */
export function podProblem(
  pod: KubeResource,
  view: ClusterView,
  options: PodProblemOptions,
): PodProblem | undefined {
  const name = pod.metadata?.name ?? "?";
  const status = (pod.status ?? {}) as {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
  for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && IMAGE_PULL.has(waiting.reason)) {
      return {
        reason: "ImagePullFailed",
        message: `pod ${name}: container ${c.name} cannot pull image ${c.image ?? ""} (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})`,
      };
    }
    if (waiting?.reason === "CrashLoopBackOff") {
      const last = c.lastState?.terminated;
      const exit = last ? `, last exit ${last.exitCode ?? "?"} (${last.reason ?? "?"})` : "";
      return {
        reason: "CrashLoop",
        message: `pod ${name}: container ${c.name} is crash-looping (${c.restartCount ?? 0} restarts${exit})`,
      };
    }
    if (waiting?.reason && CONFIG.has(waiting.reason)) {
      return {
        reason: "ContainerConfigError",
        message: `pod ${name}: container ${c.name} cannot start: ${waiting.message ?? waiting.reason}`,
      };
    }
  }
  const scheduled = conditionsOf(pod).find((c) => c.type === "PodScheduled");
  if (
    scheduled?.status === "False" &&
    scheduled.reason === "Unschedulable" &&
    longerThan(scheduled, view, options.graceMs)
  ) {
    const notReady = notReadyCandidates(pod, view);
    if (notReady.length > 0) {
      return {
        reason: "NodeNotReady",
        message: `pod ${name} cannot be scheduled: the nodes it may run on are not ready (${notReady.join("; ")}); scheduler: ${scheduled.message ?? ""}`,
      };
    }
    return {
      reason: "Unschedulable",
      message: `pod ${name} cannot be scheduled: ${scheduled.message ?? "no node fits"}`,
    };
  }
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  if (nodeName && !isReady(pod)) {
    const node = view.node(nodeName);
    const nodeReady = conditionsOf(node).find((c) => c.type === "Ready");
    if (node && nodeReady && nodeReady.status !== "True" && longerThan(nodeReady, view, options.graceMs)) {
      return {
        reason: "NodeNotReady",
        message: `pod ${name} is on node ${nodeName}, which is not ready (${nodeReady.reason ?? nodeReady.status}: ${nodeReady.message ?? ""})`,
      };
    }
  }
  return undefined;
}

/** The nodes a pod's node selector admits that are not ready, described ("node (reason: message)"). */
function notReadyCandidates(pod: KubeResource, view: ClusterView): string[] {
  const selector = (pod.spec as { nodeSelector?: Record<string, string> } | undefined)?.nodeSelector ?? {};
  return view
    .nodes()
    .filter((n) => Object.entries(selector).every(([k, v]) => n.metadata?.labels?.[k] === v))
    .filter((n) => !isReady(n))
    .map((n) => {
      const ready = conditionsOf(n).find((c) => c.type === "Ready");
      return `${n.metadata?.name} ${ready ? `${ready.reason ?? ready.status}: ${ready.message ?? ""}` : "has not reported"}`;
    });
}

/** Why a pod that has no problem yet is still not ready, for timeouts and heartbeats. */
export function podPendingReason(pod: KubeResource): string {
  const name = pod.metadata?.name ?? "?";
  const phase = (pod.status as { phase?: string } | undefined)?.phase ?? "Pending";
  const statuses =
    (pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];
  const running = statuses.filter((c) => c.state?.running);
  if (phase === "Running" && running.length > 0 && statuses.some((c) => !c.ready)) {
    return `pod ${name} runs but its readiness probe never passed`;
  }
  const scheduled = conditionsOf(pod).find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False")
    return `pod ${name} is not scheduled: ${scheduled.message ?? scheduled.reason ?? ""}`;
  return `pod ${name} is ${phase}`;
}

// Condition timestamps have one-second resolution; the grace is measured against them.
function longerThan(c: { lastTransitionTime?: string }, view: ClusterView, graceMs: number): boolean {
  if (!c.lastTransitionTime) return graceMs <= 0;
  return view.now() - Date.parse(c.lastTransitionTime) >= graceMs;
}
