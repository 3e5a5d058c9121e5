import { randomUUID } from "node:crypto";
import type { KubecontrolError } from "../../errors.js";
import { type HeldLease, holdLease, whoAmI } from "../../history/lease.js";
import type { HistoryStore, RunResult } from "../../history/types.js";
import type { EventSink, KubecontrolEvent } from "../../io/events.js";
import type { RunReport } from "../step.js";

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
  /** Records the result, waits for the journal, releases the lease, and emits run.finished. */
  finish(
    result: Exclude<RunResult, "running">,
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

  return {
    runId,
    lease,
    emit(e) {
      journalEvent(e);
      o.emit(e);
    },
    started(steps) {
      o.emit({ type: "run.started", at: Date.now(), runId, command: o.command, app: o.app, steps });
    },
    async finish(result, error, report) {
      o.emit({
        type: "run.finished",
        at: Date.now(),
        runId,
        result: result === "failed" || result === "cancelled" || result === "no-op" ? result : "succeeded",
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
}
