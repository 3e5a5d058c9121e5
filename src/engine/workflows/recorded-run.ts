import { randomUUID } from "node:crypto";
import { KubecontrolError, toKubecontrolError } from "../../errors.js";
import { type HeldLease, holdLease, whoAmI } from "../../history/lease.js";
import type { HistoryStore, RunResult } from "../../history/types.js";
import type { EventSink, KubecontrolEvent } from "../../io/events.js";
import { runSteps } from "../runner.js";
import type { RunReport, Step } from "../step.js";
import { attachReport, type WorkflowOutcome } from "./outcome.js";

/** What every command that changes an app gets from its caller, besides the app itself. */
export interface RunContext {
  /** How many steps run at once. */
  concurrency: number;
  store: HistoryStore;
  /** The lease's lifetime without a heartbeat. */
  leaseTtlMs: number;
  /** Wait this long for another run's lease (--wait-lock) instead of failing at once. */
  waitLockMs?: number | undefined;
  emit: EventSink;
  signal: AbortSignal;
}

/** The recorded run of `command` on `i.app`, leased with the context's settings. */
export function recordedRunOptions(
  i: RunContext & { app: { name: string } },
  r: { command: string; version: string | null; colour: string | null; planHash: string | null },
): RecordedRunOptions {
  return {
    store: i.store,
    app: i.app.name,
    ...r,
    ttlMs: i.leaseTtlMs,
    ...(i.waitLockMs ? { waitLockMs: i.waitLockMs } : {}),
    signal: i.signal,
    emit: i.emit,
  };
}

/** What a leased, recorded run needs from its caller. */
export interface RecordedRunOptions {
  store: HistoryStore;
  app: string;
  command: string;
  version: string | null;
  colour: string | null;
  planHash: string | null;
  ttlMs: number;
  waitLockMs?: number;
  signal?: AbortSignal;
  emit: EventSink;
}

/** A run in progress: its id, the lease's fence, and an event sink that journals each step. */
export interface RecordedRun {
  runId: string;
  lease: HeldLease;
  /** Forwards events and writes each step's start and end into the journal. */
  emit: EventSink;
  /** Announces the run (run.started) once its step graph is known. */
  started(steps: number): void;
  /** Resolves once every journal write so far is durable. */
  journalled(): Promise<void>;
  /**
   * Runs a step graph journalled under this run: announces it, waits for the journal before each
   * step acts and after each ends. Throws CANCELLED when interrupted, and when a step failed the
   * first verification failure (VERIFY_FAILED) or else STEP_FAILED naming every failed step,
   * with `hint` saying how to go on.
   */
  runGraph(steps: Step[], o: { concurrency: number; signal: AbortSignal; hint: string }): Promise<RunReport>;
  /** The report of the last graph run, if any. */
  readonly report: RunReport | undefined;
  /** Records the result, waits for the journal, releases the lease, and emits run.finished. */
  finish(
    result: Exclude<RunResult, "running" | "interrupted">,
    error: KubecontrolError | undefined,
    report?: RunReport,
  ): Promise<void>;
}

/**
 * Takes the app's lease (LOCKED names the holder), records the run as started, and journals
 * each step through the events it emits. Every write carries the lease's fence, so a run that
 * lost its lease cannot record as if it still held it.
 */
export async function startRecordedRun(o: RecordedRunOptions): Promise<RecordedRun> {
  const lease = await holdLease(o.store, o.app, {
    ttlMs: o.ttlMs,
    ...(o.waitLockMs ? { waitMs: o.waitLockMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const runId = `run-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  const fence = lease.fence;
  const started = new Map<string, number>();
  // Journal writes are ordered and awaited at the end; a refused one (lease lost) fails the run.
  let journal: Promise<void> = Promise.resolve();
  let journalError: unknown;
  const write = (f: () => Promise<void>) => {
    journal = journal.then(f).catch((err: unknown) => {
      journalError ??= err;
    });
  };
  const startedAt = Date.now();
  write(() =>
    o.store.startRun(
      {
        id: runId,
        app: o.app,
        command: o.command,
        who: whoAmI(),
        version: o.version,
        colour: o.colour,
        planHash: o.planHash,
        startedAt,
      },
      fence,
    ),
  );

  const journalEvent = (e: KubecontrolEvent) => {
    if (e.type === "step.started") {
      started.set(e.step, e.at);
      write(() =>
        o.store.recordStep(
          {
            runId,
            step: e.step,
            status: "running",
            startedAt: e.at,
            finishedAt: null,
            changed: false,
            output: null,
            error: null,
          },
          fence,
        ),
      );
    } else if (e.type === "step.succeeded" || e.type === "step.failed" || e.type === "step.skipped") {
      const status =
        e.type === "step.succeeded"
          ? "succeeded"
          : e.type === "step.failed"
            ? e.error.code === "CANCELLED"
              ? "cancelled"
              : "failed"
            : "skipped";
      write(() =>
        o.store.recordStep(
          {
            runId,
            step: e.step,
            status,
            startedAt: started.get(e.step) ?? e.at,
            finishedAt: e.at,
            changed: e.type === "step.succeeded" && e.changed,
            output: e.type === "step.succeeded" ? JSON.stringify({ summary: e.summary }) : null,
            error:
              e.type === "step.failed"
                ? `${e.error.code}: ${e.error.message}`
                : e.type === "step.skipped"
                  ? e.reason
                  : null,
          },
          fence,
        ),
      );
    }
  };

  if (lease.tookOverFrom) await closeInterruptedRuns(o, lease, runId);

  let lastReport: RunReport | undefined;
  const journalled = async () => {
    await journal;
  };
  const run: RecordedRun = {
    runId,
    lease,
    get report() {
      return lastReport;
    },
    emit(e) {
      journalEvent(e);
      o.emit(e);
    },
    started(steps) {
      o.emit({ type: "run.started", at: Date.now(), runId, command: o.command, app: o.app, steps });
    },
    journalled,
    async runGraph(steps, g) {
      run.started(steps.length);
      const report = await runSteps(steps, {
        concurrency: g.concurrency,
        emit: run.emit,
        signal: g.signal,
        journalled,
      });
      lastReport = report;
      if (report.cancelled)
        throw new KubecontrolError("CANCELLED", `the ${o.command} was cancelled`, {
          hint:
            "run the same command again (or `kubecontrol resume " +
            o.app +
            "`) to continue from where it stopped",
        });
      if (!report.ok) throw graphFailure(report, g.hint);
      return report;
    },
    async finish(result, error, report) {
      o.emit({
        type: "run.finished",
        at: Date.now(),
        runId,
        result,
        durationMs: Date.now() - startedAt,
        changed: (report?.steps ?? []).filter((s) => s.changed).map((s) => s.name),
        failed: (report?.steps ?? []).filter((s) => s.status === "failed").map((s) => s.name),
      });
      try {
        await journal;
        await o.store.finishRun(runId, result, error ? `${error.code}: ${error.message}` : null, fence);
        if (journalError) throw journalError;
      } finally {
        await lease.release().catch(() => {});
      }
    },
  };
  return run;
}

/**
 * Runs `body` as one leased, recorded run: the lease taken first, the result recorded at the end
 * (cancelled or failed with the error's code, never a secret), the lease released. A failure
 * keeps the graph's report for the summary.
 */
export async function recordedWorkflow<T extends WorkflowOutcome>(
  o: RecordedRunOptions,
  body: (run: RecordedRun) => Promise<T>,
): Promise<T> {
  const run = await startRecordedRun(o);
  try {
    const outcome = await body(run);
    await run.finish(outcome.result, undefined, outcome.report);
    return outcome;
  } catch (err) {
    const error = toKubecontrolError(err);
    await run.finish(error.code === "CANCELLED" ? "cancelled" : "failed", error, run.report).catch(() => {});
    if (run.report) attachReport(error, run.report);
    throw error;
  }
}

/** A failed graph's error: its first verification failure (exit 7), else every failed step (exit 6). */
export function graphFailure(report: RunReport, hint: string): KubecontrolError {
  const failed = report.steps.filter((s) => s.status === "failed");
  const verify = failed.find((s) => s.error instanceof KubecontrolError && s.error.code === "VERIFY_FAILED");
  if (verify) return verify.error as KubecontrolError;
  return new KubecontrolError(
    "STEP_FAILED",
    `${failed.length} step(s) failed: ${failed.map((s) => `${s.name}: ${s.error?.message ?? "failed"}`).join("; ")}`,
    { cause: failed[0]?.error, retryable: true, hint },
  );
}

/**
 * The runs a dead owner left "running" (its process killed, its host gone) are closed as
 * interrupted once its lease is taken over, naming the run that took over.
 */
async function closeInterruptedRuns(o: RecordedRunOptions, lease: HeldLease, by: string): Promise<void> {
  const dead = lease.tookOverFrom!;
  const runs = await o.store.listRuns({ app: o.app, result: "running", limit: 20 });
  for (const r of runs) {
    if (r.id === by || r.startedAt < dead.acquiredAt) continue;
    await o.store.finishRun(
      r.id,
      "interrupted",
      `INTERRUPTED: its process stopped (${dead.owner}, pid ${dead.pid}); taken over by ${by}`,
      lease.fence,
    );
  }
}
