import { podPendingReason } from "./pod-problems.js";
import { type ClusterView, type FailureReason, isReady, type Verdict } from "./verdict.js";
import type { WatchTarget } from "./wait-for-objects.js";
import { newPods } from "./watch-deployment.js";

/**
 * Why an object ran out of time: NeverReady when its new pods run but never pass readiness
 * (a probe that never succeeds), otherwise TimedOut with the first pending pod's state.
 */
export function timeoutCause(
  view: ClusterView,
  t: WatchTarget,
  v: Verdict,
  timeoutMs: number,
): { reason: FailureReason; message: string } {
  const seconds = Math.round(timeoutMs / 1000);
  const ref = `${t.kind.toLowerCase()}/${t.name}`;
  const obj = view.object(t.kind, t.namespace, t.name);
  const pods = obj && t.kind === "Deployment" ? newPods(obj, view).filter((p) => !isReady(p)) : [];
  const running = pods.map(podPendingReason).filter((r) => r.includes("readiness probe"));
  if (running.length > 0) {
    return {
      reason: "NeverReady",
      message: `${ref} not available after ${seconds}s (${v.summary}): ${running[0]}`,
    };
  }
  const why = pods.length > 0 ? `: ${podPendingReason(pods[0]!)}` : "";
  return { reason: "TimedOut", message: `${ref} not ready after ${seconds}s (${v.summary})${why}` };
}
