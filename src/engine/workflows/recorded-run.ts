import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { KubecontrolError, toKubecontrolError } from "../../errors.js";
import { withChangeGate } from "../../fence.js";
import { type HeldLease, holdLease, whoAmI } from "../../history/lease.js";
import type { HistoryStore, RunResult, RunTrigger } from "../../history/types.js";
import type { EventSink, KubecontrolEvent, Phase } from "../../io/events.js";
import { redact, redactValue } from "../../io/redact.js";
import { sleep } from "../../wait.js";
import { phasesOf } from "../phase.js";
import { pastDurations, progressTracker, remainingMs } from "../progress.js";
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
  /**
   * How long before its expiry (by this host's clock) a lease stops counting as held: the
   * longest a change sent now may take to land. Past it the run changes nothing more.
   */
  leaseMarginMs: number;
  /** Wait this long for another run's lease (--wait-lock) instead of failing at once. */
  waitLockMs?: number | undefined;
  emit: EventSink;
  signal: AbortSignal;
  /** What started the run (a person, or cron), recorded with it. */
  trigger?: RunTrigger | undefined;
}

/** The recorded run of `command` on `i.app`, leased with the context's settings. */
export function recordedRunOptions(
  i: RunContext & { app: { name: string } },
  r: {
    command: string;
    version: string | null;
    colour: string | null;
    planHash: string | null;
    options?: Record<string, unknown>;
    /** The version's commit subject (commitSubject), when the run deploys one. */
    subject?: string | null;
  },
): RecordedRunOptions {
  return {
    store: i.store,
    app: i.app.name,
    ...r,
    ...(i.trigger ? { trigger: i.trigger } : {}),
    ttlMs: i.leaseTtlMs,
    marginMs: i.leaseMarginMs,
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
  /** The flags the run was started with beyond version and colour, recorded for resume. */
  options?: Record<string, unknown>;
  /** What started it (a person, or cron). */
  trigger?: RunTrigger;
  /** The subject of the version's commit. */
  subject?: string | null;
  ttlMs: number;
  marginMs: number;
  waitLockMs?: number;
  signal?: AbortSignal;
  emit: EventSink;
}

/** A run in progress: its id, the lease's fence, and an event sink that journals each step. */
export interface RecordedRun {
  runId: string;
  lease: HeldLease;
  /**
   * Aborts when the caller's signal does (Ctrl-C) and when the lease is lost (its reason is then
   * the lease error): every step and wait of the run listens to it.
   */
  signal: AbortSignal;
  /** Forwards events and writes each step's start and end into the journal. */
  emit: EventSink;
  /** Announces the run (run.started) once its step graph is known. */
  started(steps: number, more?: { phases: Phase[]; estimateMs?: number }): void;
  /** Resolves once every journal write so far is durable. */
  journalled(): Promise<void>;
  /**
   * Runs a step graph journalled under this run: announces it, waits for the journal before each
   * step acts and after each ends. Throws CANCELLED when interrupted, and when a step failed the
   * first verification failure (VERIFY_FAILED) or else STEP_FAILED naming every failed step,
   * with `hint` saying how to go on.
   */
  runGraph(steps: Step[], o: { concurrency: number; hint: string }): Promise<RunReport>;
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
  // The run's own signal: Ctrl-C aborts it, and so does the loss of the lease, with the lease
  // error as its reason, so every step and wait in progress ends.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const interrupted = () => controller.abort(o.signal?.reason);
  if (o.signal?.aborted) interrupted();
  else o.signal?.addEventListener("abort", interrupted, { once: true });
  const lease = await holdLease(o.store, o.app, {
    ttlMs: o.ttlMs,
    marginMs: o.marginMs,
    ...(o.waitLockMs ? { waitMs: o.waitLockMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onLost(err) {
      o.emit({ type: "log", at: Date.now(), level: "error", message: `stopping: ${err.message}` });
      controller.abort(err);
    },
    onRenewalFailed(err, validForMs) {
      o.emit({
        type: "log",
        at: Date.now(),
        level: "warn",
        message: `renewing the lease on ${o.app} failed (${(err as Error).message}); retrying, it stays valid for ${Math.round(validForMs / 1000)}s`,
      });
    },
  });
  const runId = `run-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  const fence = lease.fence;
  const started = new Map<string, number>();
  // Journal writes are ordered; each step waits for them before it acts. A refused one (another
  // run holds the lease) loses the lease and stops the run; one the store did not answer is
  // tried again a few times, and failing still, fails the run's next step.
  let journal: Promise<void> = Promise.resolve();
  let journalError: unknown;
  const write = (f: () => Promise<void>) => {
    journal = journal
      .then(() => durably(f, lease))
      .catch((err: unknown) => {
        journalError ??= err;
        if (err instanceof KubecontrolError && err.code === "LOCKED") lease.lost(err);
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
        options: o.options ?? null,
        trigger: o.trigger ?? null,
        subject: o.subject ?? null,
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

  if (lease.tookOverFrom) {
    try {
      await closeInterruptedRuns(o, lease, runId);
    } catch (err) {
      // The run cannot start; the lease must not outlive it.
      await lease.release().catch(() => {});
      throw err;
    }
  }

  let lastReport: RunReport | undefined;
  let announcedFinish = false;
  const journalled = async () => {
    await journal;
    if (journalError) throw journalError;
  };
  const run: RecordedRun = {
    runId,
    lease,
    signal: controller.signal,
    get report() {
      return lastReport;
    },
    emit(e) {
      // Redacted before the journal (history) or any sink sees it.
      const safe = redactValue(e);
      journalEvent(safe);
      o.emit(safe);
    },
    started(steps, more) {
      o.emit({
        type: "run.started",
        at: Date.now(),
        runId,
        command: o.command,
        app: o.app,
        steps,
        version: o.version,
        ...more,
      });
    },
    journalled,
    async runGraph(steps, g) {
      // The app's own past runs say how long this one should take; a store slow to say it does
      // not hold the run up.
      const past = await withinMs(ESTIMATE_READ_MS, pastDurations(o.store, o.app, o.command, runId));
      const none = { medians: new Map<string, number>(), runs: 0 };
      const estimateMs = past ? remainingMs(steps, past, new Map(), 0) : undefined;
      run.started(steps.length, {
        phases: phasesOf(steps),
        ...(estimateMs !== undefined ? { estimateMs } : {}),
      });
      const report = await runSteps(steps, {
        concurrency: g.concurrency,
        emit: progressTracker({ runId, steps, past: past ?? none, startedAt }, run.emit),
        signal: controller.signal,
        journalled,
      });
      lastReport = report;
      const reason: unknown = controller.signal.reason;
      if (report.cancelled && reason instanceof KubecontrolError && reason.code !== "CANCELLED") throw reason;
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
      // The result goes into the store first (through the fence: refused if another run holds
      // the lease now), and run.finished says what was recorded, once.
      let unrecorded: unknown;
      try {
        await journal;
        await o.store.finishRun(
          runId,
          result,
          error ? redact(`${error.code}: ${error.message}`) : null,
          fence,
        );
        if (journalError) throw journalError;
      } catch (err) {
        unrecorded = err;
      } finally {
        o.signal?.removeEventListener("abort", interrupted);
        await lease.release().catch(() => {});
      }
      if (!announcedFinish) {
        announcedFinish = true;
        o.emit({
          type: "run.finished",
          at: Date.now(),
          runId,
          version: o.version,
          result: unrecorded && result !== "cancelled" ? "failed" : result,
          durationMs: Date.now() - startedAt,
          changed: (report?.steps ?? []).filter((s) => s.changed).map((s) => s.name),
          failed: (report?.steps ?? []).filter((s) => s.status === "failed").map((s) => s.name),
        });
      }
      if (unrecorded) throw unrecorded;
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
  let done = false;
  try {
    // Every change the body makes asks the lease first, and is waited for before the lease is
    // released (src/fence.ts).
    const outcome = await withChangeGate(
      { check: () => run.lease.assertHeld(), enter: () => run.lease.inFlight() },
      () => body(run),
    );
    done = true;
    await run.finish(outcome.result, undefined, outcome.report);
    return outcome;
  } catch (err) {
    let error = toKubecontrolError(err);
    if (run.lease.lostWith) error = await leaseLostError(o, run.lease.lostWith, run.lease.fence.token, done);
    await run.finish(error.code === "CANCELLED" ? "cancelled" : "failed", error, run.report).catch(() => {});
    if (run.report) attachReport(error, run.report);
    throw error;
  }
}

/**
 * The error a run that lost its lease ends with: why it stopped, and who holds the lease now
 * (read from the store), so the person who started it knows whom to ask.
 */
async function leaseLostError(
  o: RecordedRunOptions,
  lost: KubecontrolError,
  token: number,
  stepsDone: boolean,
): Promise<KubecontrolError> {
  const holder = await o.store.currentLease(o.app).catch(() => undefined);
  // Who took it over from this run, when it has been released since.
  const takeover = holder
    ? undefined
    : (await o.store.leaseLog(o.app).catch(() => [])).find(
        (e) => e.token > token && (e.event === "took-over" || e.event === "acquired"),
      );
  const now = holder
    ? `; ${holder.owner} (pid ${holder.pid} on ${holder.host}) holds it now, since ${new Date(holder.acquiredAt).toISOString()}`
    : takeover
      ? `; ${takeover.owner} took the lease over at ${new Date(takeover.at).toISOString()} and has released it since`
      : "; nobody holds it now";
  const message = stepsDone
    ? `${o.app}: this ${o.command} made its changes, but could not record its result: ${lost.message}${now}`
    : `${o.app}: this ${o.command} stopped: ${lost.message}${now}`;
  return new KubecontrolError("LOCKED", message, {
    cause: lost,
    hint: stepsDone
      ? `its changes are in place; \`kubecontrol history ${o.app}\` shows the runs, and running the command again checks what exists`
      : `it changed nothing after losing the lease; \`kubecontrol history ${o.app}\` shows what the other run did, and running this command again continues from what exists`,
    details: { ...(lost.details ?? {}), ...(holder ? { holder: holder.owner, holderPid: holder.pid } : {}) },
  });
}

/** How long the estimate's read of past runs may take before the run goes on without it. */
const ESTIMATE_READ_MS = 3_000;

/** The promise's value, or undefined when it fails or takes longer than `ms`. */
async function withinMs<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A journal write, tried again a few times when the store did not answer (never when it refused). */
async function durably(f: () => Promise<void>, lease: HeldLease): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      const refused = err instanceof KubecontrolError && err.code === "LOCKED";
      if (refused || attempt >= 5 || lease.lostWith) throw err;
      lease.assertHeld();
      await sleep(200 * 2 ** attempt);
    }
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
