import type { KubeResource } from "../client.js";
import type { ClusterView, Verdict } from "./verdict.js";
import type { WatchTarget } from "./wait-for-objects.js";

interface EndpointSlice {
  endpoints?: { conditions?: { ready?: boolean } }[];
}

/**
 * Judges a Service: one without a selector, or whose selector no expected workload matches,
 * succeeds as it is; otherwise it needs at least one ready endpoint.
 */
export function judgeService(svc: KubeResource, view: ClusterView, expectsEndpoints: boolean): Verdict {
  const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
  if (!selector || Object.keys(selector).length === 0 || !expectsEndpoints) {
    return { state: "succeeded", summary: "exists" };
  }
  const slices = view.endpointSlices(
    svc.metadata?.namespace ?? "",
    svc.metadata?.name ?? "",
  ) as (KubeResource & EndpointSlice)[];
  const ready = slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
  if (ready === 0) return { state: "waiting", summary: "no ready endpoints yet" };
  return { state: "succeeded", summary: `${ready} ready endpoint${ready === 1 ? "" : "s"}` };
}

/** True when a pod template's labels satisfy a Service's selector. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** True when a watched workload with replicas has pods the Service selects: then it needs endpoints. */
export function expectsEndpoints(view: ClusterView, service: WatchTarget, targets: WatchTarget[]): boolean {
  const svc = view.object("Service", service.namespace, service.name);
  const selector = (svc?.spec as { selector?: Record<string, string> } | undefined)?.selector;
  return targets.some((w) => {
    if (w.kind === "Service" || w.namespace !== service.namespace) return false;
    const spec = view.object(w.kind, w.namespace, w.name)?.spec as
      | { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } }
      | undefined;
    return (spec?.replicas ?? 1) > 0 && selects(selector, spec?.template?.metadata?.labels);
  });
}
