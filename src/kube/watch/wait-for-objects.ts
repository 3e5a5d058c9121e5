import type { KubeClient } from "../client.js";
import { WatchedCluster } from "./cluster-view.js";
import { collectEvidence, evidencePods } from "./evidence.js";
import { timeoutCause } from "./timeout-cause.js";
import type { FailureReason, Verdict } from "./verdict.js";
import { judgeDaemonSet } from "./watch-daemonset.js";
import { judgeDeployment } from "./watch-deployment.js";
import { expectsEndpoints, judgeService } from "./watch-service.js";

/** Kinds whose readiness is watched; every other kind is done once applied. */
export const WATCHED_KINDS = ["Deployment", "DaemonSet", "Service"] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

/** An object to watch to its end. */
export interface WatchTarget {
  kind: WatchedKind;
  namespace: string;
  name: string;
  /** The generation our apply or patch produced (a cached older one is not this rollout). */
  minGeneration?: number;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called whenever what is awaited changes: "deployment/web (2/3 available)". */
  onWaiting?(reason: string): void;
  /** Per-kind deadlines (krane's per-kind timeouts). */
  timeoutMs?: Partial<Record<WatchedKind, number>>;
  /** How long a pod may stay unschedulable or on a NotReady node before it fails the rollout. */
  graceMs?: number;
  /** Stop at the first failure (the rest are reported as not finished); default true. */
  failFast?: boolean;
  /**
   * Judge once, as things stand, instead of waiting: what has not succeeded or failed yet is
   * "not-finished". A verification's check reads the live state this way on every run.
   */
  once?: boolean;
  logTimeoutMs?: number;
}

export type Outcome = "succeeded" | "failed" | "timed-out" | "not-finished";

/** How one object ended, with the evidence when it did not succeed. */
export interface ObjectOutcome {
  ref: string;
  kind: WatchedKind;
  namespace: string;
  name: string;
  outcome: Outcome;
  summary: string;
  reason?: FailureReason;
  message?: string;
  evidence: string[];
  /** ms from the start of the watch to the verdict. */
  durationMs: number;
}

export interface WaitReport {
  ok: boolean;
  outcomes: ObjectOutcome[];
  /** Date.now() when the last verdict was reached (before evidence was gathered). */
  decidedAt: number;
}

const DEFAULT_TIMEOUTS: Record<WatchedKind, number> = {
  Deployment: 600_000,
  DaemonSet: 300_000,
  Service: 120_000,
};

/**
 * Watches Deployments, DaemonSets and Services until each has succeeded, failed or timed out,
 * re-judging on every watch event (no polling for success; a one-second tick only ages
 * deadlines and grace periods). Failures carry evidence: events, container states, logs.
 */
export async function waitForObjects(
  client: KubeClient,
  targets: WatchTarget[],
  options: WaitOptions = {},
): Promise<WaitReport> {
  const started = Date.now();
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeoutMs };
  const graceMs = options.graceMs ?? 10_000;
  const failFast = options.failFast ?? true;
  const pending = new Map(targets.map((t) => [refOf(t), t]));
  const outcomes = new Map<string, ObjectOutcome>();
  const last = new Map<string, Verdict>();
  let synced = false;
  let lastWaiting = "";
  let decidedAt = started;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const view = new WatchedCluster(
    client,
    {
      namespaces: [...new Set(targets.map((t) => t.namespace))],
      deployments: targets.some((t) => t.kind === "Deployment"),
      daemonSets: targets.some((t) => t.kind === "DaemonSet"),
      services: targets.some((t) => t.kind === "Service"),
    },
    () => {
      if (synced) evaluate();
    },
  );

  const judge = (t: WatchTarget): Verdict => {
    const obj = view.object(t.kind, t.namespace, t.name);
    if (!obj) return { state: "waiting", summary: "not found yet" };
    const o = { graceMs, ...(t.minGeneration ? { minGeneration: t.minGeneration } : {}) };
    if (t.kind === "Deployment") return judgeDeployment(obj, view, o);
    if (t.kind === "DaemonSet") return judgeDaemonSet(obj, view, o);
    return judgeService(obj, view, expectsEndpoints(view, t, targets));
  };

  const settle = (t: WatchTarget, outcome: Outcome, v: Verdict, reason?: FailureReason, message?: string) => {
    const ref = refOf(t);
    pending.delete(ref);
    decidedAt = Date.now();
    outcomes.set(ref, {
      ref,
      ...t,
      outcome,
      summary: v.summary,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      evidence: [],
      durationMs: decidedAt - started,
    });
  };

  function evaluate(): void {
    const now = Date.now();
    for (const t of [...pending.values()]) {
      const v = judge(t);
      last.set(refOf(t), v);
      if (v.state === "succeeded") settle(t, "succeeded", v);
      else if (v.state === "failed") settle(t, "failed", v, v.reason, v.message);
      else if (now - started >= timeouts[t.kind]) {
        const { reason, message } = timeoutCause(view, t, v, timeouts[t.kind]);
        settle(t, "timed-out", v, reason, message);
      }
    }
    const stop =
      options.once === true ||
      pending.size === 0 ||
      (failFast && [...outcomes.values()].some((o) => o.outcome !== "succeeded"));
    if (stop) {
      finish();
      return;
    }
    const waiting = [...pending.values()]
      .map((t) => `${refOf(t)} (${last.get(refOf(t))?.summary})`)
      .join(", ");
    if (waiting !== lastWaiting) {
      lastWaiting = waiting;
      options.onWaiting?.(waiting);
    }
  }

  const tick = setInterval(() => {
    if (synced) evaluate();
  }, 1000);
  tick.unref();
  const onAbort = () => finish();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.race([view.synced, finished]);
    synced = true;
    evaluate();
    await finished;
  } finally {
    clearInterval(tick);
    options.signal?.removeEventListener("abort", onAbort);
    view.stop();
  }
  for (const t of pending.values()) {
    const v = last.get(refOf(t)) ?? { state: "waiting", summary: "not judged" };
    outcomes.set(refOf(t), {
      ref: refOf(t),
      ...t,
      outcome: "not-finished",
      summary: v.summary,
      evidence: [],
      durationMs: Date.now() - started,
    });
  }
  const ordered = targets.map((t) => outcomes.get(refOf(t))!);
  await Promise.all(
    ordered
      .filter((o) => o.outcome === "failed" || o.outcome === "timed-out")
      .map(async (o) => {
        o.evidence = await collectEvidence(client, view, o, {
          pods: evidencePods(view, o, last.get(o.ref)),
          ...(options.logTimeoutMs ? { logTimeoutMs: options.logTimeoutMs } : {}),
        });
      }),
  );
  return { ok: ordered.every((o) => o.outcome === "succeeded"), outcomes: ordered, decidedAt };
}

/** kind/name as kubectl prints it: deployment/web. */
export function refOf(t: { kind: string; name: string }): string {
  return `${t.kind.toLowerCase()}/${t.name}`;
}
