import type { KubeClient, KubeResource } from "../client.js";
import type { ContainerStatus } from "./pod-problems.js";
import type { ClusterView, Verdict } from "./verdict.js";
import { newPods } from "./watch-deployment.js";

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string };
}

export interface EvidenceOptions {
  /** Pods to look at (the failing ones first); at most three are read. */
  pods: string[];
  /** Log requests go through the kubelet, which may be unreachable: give up after this long. */
  logTimeoutMs?: number;
}

/**
 * What a person needs to see why a workload failed: its recent events, and for a few of its
 * pods their container states, events and last log lines (where the cluster has them).
 */
export async function collectEvidence(
  client: KubeClient,
  view: ClusterView,
  ref: { kind: string; namespace: string; name: string },
  options: EvidenceOptions,
): Promise<string[]> {
  const lines: string[] = [];
  const events = await eventsFor(client, ref.namespace, ref.name, ref.kind);
  for (const e of events) lines.push(`${ref.kind.toLowerCase()}/${ref.name} event: ${formatEvent(e)}`);
  const pods = options.pods
    .map((name) => view.pods(ref.namespace).find((p) => p.metadata?.name === name))
    .filter((p): p is KubeResource => p !== undefined)
    .slice(0, 3);
  const perPod = await Promise.all(pods.map((p) => podEvidence(client, p, options.logTimeoutMs ?? 2000)));
  for (const l of perPod) lines.push(...l);
  return lines;
}

async function podEvidence(client: KubeClient, pod: KubeResource, logTimeoutMs: number): Promise<string[]> {
  const name = pod.metadata?.name ?? "?";
  const ns = pod.metadata?.namespace ?? "";
  const lines: string[] = [];
  const statuses =
    (pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];
  for (const c of statuses) lines.push(`pod/${name} container ${c.name}: ${describeState(c)}`);
  const [events, logs] = await Promise.all([
    eventsFor(client, ns, name, "Pod"),
    lastLogLines(client, pod, statuses, logTimeoutMs),
  ]);
  for (const e of events) lines.push(`pod/${name} event: ${formatEvent(e)}`);
  for (const l of logs) lines.push(`pod/${name} log: ${l}`);
  return lines;
}

function describeState(c: ContainerStatus): string {
  const s = c.state ?? {};
  const now = s.waiting
    ? `waiting (${s.waiting.reason ?? "?"}${s.waiting.message ? `: ${s.waiting.message}` : ""})`
    : s.terminated
      ? `terminated (${s.terminated.reason ?? "?"}, exit ${s.terminated.exitCode ?? "?"})`
      : s.running
        ? `running, ${c.ready ? "ready" : "not ready"}`
        : "unknown";
  const last = c.lastState?.terminated;
  const before = last ? `; last terminated (${last.reason ?? "?"}, exit ${last.exitCode ?? "?"})` : "";
  return `${now}, image ${c.image ?? "?"}, ${c.restartCount ?? 0} restarts${before}`;
}

async function eventsFor(client: KubeClient, ns: string, name: string, kind: string): Promise<KubeEvent[]> {
  const out = await client
    .request<{ items: KubeEvent[] }>("GET", `/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector: `involvedObject.name=${name},involvedObject.kind=${kind}` },
    })
    .catch(() => ({ items: [] as KubeEvent[] }));
  return out.items.sort((a, b) => timeOf(a) - timeOf(b)).slice(-5);
}

function timeOf(e: KubeEvent): number {
  return Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? "") || 0;
}

function formatEvent(e: KubeEvent): string {
  return `${e.type ?? "Normal"} ${e.reason ?? ""}: ${e.message ?? ""}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ""}`;
}

async function lastLogLines(
  client: KubeClient,
  pod: KubeResource,
  statuses: ContainerStatus[],
  timeoutMs: number,
): Promise<string[]> {
  // Only a container that ran has logs: the previous instance's for a crash loop.
  const ran = statuses.find((c) => c.state?.running || c.state?.terminated || c.lastState?.terminated);
  if (!ran) return [];
  const previous = !ran.state?.running && Boolean(ran.lastState?.terminated);
  try {
    const text = await client.text(
      `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/log`,
      { query: { container: ran.name, tailLines: 10, previous }, signal: AbortSignal.timeout(timeoutMs) },
    );
    return text.split("\n").filter(Boolean).slice(-10);
  } catch {
    return [];
  }
}

/** The pods worth showing for an outcome: the failing verdict's, else the Deployment's current ones. */
export function evidencePods(
  view: ClusterView,
  o: { kind: string; namespace: string; name: string },
  verdict: Verdict | undefined,
): string[] {
  if (verdict?.state === "failed" && verdict.pods) return verdict.pods;
  const obj = view.object(o.kind, o.namespace, o.name);
  return obj && o.kind === "Deployment" ? newPods(obj, view).map((p) => p.metadata?.name ?? "") : [];
}
