import { KubecontrolError, toKubecontrolError } from "../errors.js";
import type { EventSink, KubecontrolEvent } from "../io/events.js";
import { formatDuration } from "../io/format.js";
import { failpoint } from "./failpoints.js";
import { phaseOf } from "./phase.js";
import {
  type CheckResult,
  KnownAfterApply,
  type PlannedStep,
  type RunOptions,
  type RunReport,
  type Step,
  type StepContext,
  type StepReport,
} from "./step.js";

/** In a plan, the result of a step that would act: what depends on it is known after apply. */
class AfterApply {
  constructor(readonly step: string) {}
}

/** Checks that every dependency exists and that there is no cycle; throws INTERNAL otherwise (a code bug). */
export function validateGraph(steps: readonly Step[]): void {
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new KubecontrolError("INTERNAL", `two steps are named "${s.name}"`);
    names.add(s.name);
  }
  for (const s of steps) {
    for (const d of s.dependsOn ?? []) {
      if (!names.has(d))
        throw new KubecontrolError("INTERNAL", `step "${s.name}" depends on unknown step "${d}"`);
    }
  }
  const state = new Map<string, "visiting" | "done">();
  const byName = new Map(steps.map((s) => [s.name, s]));
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new KubecontrolError("INTERNAL", `step cycle: ${[...trail, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const d of byName.get(name)?.dependsOn ?? []) visit(d, [...trail, name]);
    state.set(name, "done");
  };
  for (const s of steps) visit(s.name, []);
}

/**
 * Runs a graph of steps: each starts once its dependencies succeeded, at most `concurrency` at
 * a time. A failed step's dependants are skipped; independent work goes on. Never throws for a
 * step's failure: the report says what happened.
 */
export async function runSteps(steps: readonly Step[], options: RunOptions = {}): Promise<RunReport> {
  validateGraph(steps);
  const now = options.now ?? Date.now;
  const emit: EventSink = options.emit ?? (() => {});
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const journalled = options.journalled ?? (() => Promise.resolve());
  const started = now();
  const results = new Map<string, unknown>();
  const reports = new Map<string, StepReport>();
  const pending = new Set(steps.map((s) => s.name));
  const running = new Map<string, Promise<void>>();

  const settle = (report: StepReport) => {
    reports.set(report.name, report);
    pending.delete(report.name);
  };

  const skipDependants = (failed: string) => {
    for (const s of steps) {
      if (pending.has(s.name) && !running.has(s.name) && (s.dependsOn ?? []).includes(failed)) {
        const reason = `${failed} did not succeed`;
        emit({ type: "step.skipped", at: now(), step: s.name, reason });
        settle({ name: s.name, status: "skipped", changed: false, durationMs: 0, reason });
        skipDependants(s.name);
      }
    }
  };

  const ready = () =>
    steps.filter(
      (s) =>
        pending.has(s.name) &&
        !running.has(s.name) &&
        (s.dependsOn ?? []).every((d) => reports.get(d)?.status === "succeeded"),
    );

  while (pending.size > 0) {
    if (options.signal?.aborted) break;
    for (const step of ready()) {
      if (running.size >= concurrency) break;
      const p = runOne(step, {
        emit,
        now,
        heartbeatMs,
        results,
        signal: options.signal,
        journalled,
        plan: options.plan === true,
      })
        .then(async (report) => {
          settle(report);
          if (report.status === "succeeded") results.set(step.name, report.result);
          else if (report.status === "failed") skipDependants(step.name);
          await journalled();
          failpoint(step.name, "after-journal");
        })
        // A failed journal write is reported when the run finishes; a failpoint's action has
        // already stopped the run.
        .catch(() => {})
        .finally(() => running.delete(step.name));
      running.set(step.name, p);
    }
    if (running.size === 0) break; // nothing runnable: the rest depends on failures already handled
    await Promise.race(running.values());
  }
  await Promise.all(running.values());

  const cancelled = options.signal?.aborted === true;
  for (const name of pending) {
    if (!reports.has(name)) {
      reports.set(name, {
        name,
        status: cancelled ? "cancelled" : "skipped",
        changed: false,
        durationMs: 0,
        reason: cancelled ? "run cancelled" : "not reached",
      });
    }
  }
  const ordered = steps.map((s) => reports.get(s.name)!);
  return {
    ok: !cancelled && ordered.every((r) => r.status === "succeeded"),
    cancelled,
    steps: ordered,
    results,
    durationMs: now() - started,
  };
}

interface RunOneOptions {
  emit: EventSink;
  now: () => number;
  heartbeatMs: number;
  results: Map<string, unknown>;
  signal: AbortSignal | undefined;
  journalled: () => Promise<void>;
  plan: boolean;
}

async function runOne(step: Step, o: RunOneOptions): Promise<StepReport & { result?: unknown }> {
  const t0 = o.now();
  o.emit({
    type: "step.started",
    at: t0,
    step: step.name,
    description: step.description,
    phase: phaseOf(step),
  });
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let waitingFor: string | undefined;
  let waitingSince = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  const ctx: StepContext = {
    signal: controller.signal,
    result(ref) {
      const value = o.results.get(ref.step);
      if (value instanceof AfterApply) throw new KnownAfterApply(value.step);
      if (value === undefined && !o.results.has(ref.step))
        throw new KubecontrolError(
          "INTERNAL",
          `${step.name} read the result of ${ref.step}, which has not run: the step graph lacks a dependency`,
        );
      return value as never;
    },
    waiting(reason) {
      waitingFor = reason;
      waitingSince = o.now();
      o.emit({
        type: "step.waiting",
        at: waitingSince,
        step: step.name,
        reason,
        elapsedMs: waitingSince - t0,
      });
      if (!heartbeat) {
        heartbeat = setInterval(() => {
          if (waitingFor)
            o.emit({
              type: "step.waiting",
              at: o.now(),
              step: step.name,
              reason: waitingFor,
              elapsedMs: o.now() - t0,
            });
        }, o.heartbeatMs);
        heartbeat.unref();
      }
    },
    retrying(attempt, reason, delayMs) {
      o.emit({ type: "step.retrying", at: o.now(), step: step.name, attempt, reason, delayMs });
    },
    log(level, message) {
      o.emit({ type: "log", at: o.now(), level, message, step: step.name } as KubecontrolEvent);
    },
  };
  let planned: PlannedStep | undefined;
  const work = (async () => {
    if (o.plan) {
      const p = await planOne(step, ctx, o);
      planned = p.planned;
      return { changed: false, applied: p.value };
    }
    const check = await checkStep(step, ctx, o);
    if (check.satisfied) return { changed: false, applied: check.value, reason: check.reason };
    await o.journalled();
    failpoint(step.name, "before-apply");
    const applied = step.apply ? await step.apply(ctx, check.needed) : undefined;
    failpoint(step.name, "after-apply");
    const waited = step.wait ? await step.wait(ctx, applied) : undefined;
    return { changed: true, applied: waited ?? applied, reason: check.reason };
  })();
  const deadline =
    step.timeoutMs === undefined
      ? new Promise<never>(() => {})
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const what = waitingFor ? ` while waiting for ${waitingFor}` : "";
            const err = new KubecontrolError(
              "TIMEOUT",
              `${step.name} timed out after ${formatDuration(step.timeoutMs!)}${what}`,
              {
                retryable: true,
                hint: "re-run the command to continue from here, or raise the step's timeout",
                details: {
                  step: step.name,
                  waitingFor,
                  waitingForMs: waitingFor ? o.now() - waitingSince : undefined,
                },
              },
            );
            controller.abort(err);
            reject(err);
          }, step.timeoutMs);
        });
  const cancelled = new Promise<never>((_, reject) => {
    if (o.signal?.aborted) reject(cancelError(step.name, o.signal.reason));
    o.signal?.addEventListener("abort", () => reject(cancelError(step.name, o.signal?.reason)), {
      once: true,
    });
  });
  try {
    const { changed, applied } = await Promise.race([work, deadline, cancelled]);
    const durationMs = o.now() - t0;
    const summary = planned
      ? plannedSummary(planned)
      : (step.summarize?.(changed, applied) ?? (changed ? "done" : "already in place"));
    o.emit({
      type: "step.succeeded",
      at: o.now(),
      step: step.name,
      changed,
      summary,
      durationMs,
      ...(planned ? { planned: planned.action } : {}),
    });
    return {
      name: step.name,
      description: step.description,
      status: "succeeded",
      changed,
      durationMs,
      summary,
      result: applied,
      ...(planned ? { planned } : {}),
    };
  } catch (thrown) {
    const error = toKubecontrolError(thrown);
    const durationMs = o.now() - t0;
    const status = error.code === "CANCELLED" ? "cancelled" : "failed";
    o.emit({
      type: "step.failed",
      at: o.now(),
      step: step.name,
      error: {
        code: error.code,
        message: error.message,
        retryable: error.retryable,
        ...(error.hint ? { hint: error.hint } : {}),
      },
      durationMs,
    });
    // Let the step's own promise settle quietly: its failure is already reported.
    work.catch(() => {});
    return { name: step.name, status, changed: false, durationMs, error };
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
  }
}

/** Runs the step's check and says what it found (step.checked). */
async function checkStep(step: Step, ctx: StepContext, o: RunOneOptions): Promise<CheckResult> {
  const check = await step.check(ctx);
  o.emit({
    type: "step.checked",
    at: o.now(),
    step: step.name,
    satisfied: check.satisfied,
    reason: check.reason,
  });
  return check;
}

/**
 * A step in a plan: checked when every value it needs is known, else listed with its preview as
 * known after apply. Its result, for its dependants, is the check's value when nothing would
 * change, and otherwise a marker that makes them known after apply too.
 */
async function planOne(
  step: Step,
  ctx: StepContext,
  o: RunOneOptions,
): Promise<{ planned: PlannedStep; value: unknown }> {
  const after = (needs: string[]) => ({ action: "after-apply" as const, reason: "known after apply", needs });
  const previewed = async (needs: string[]) => {
    let changes: string[] = [];
    try {
      changes = step.preview ? await step.preview(ctx) : [];
    } catch (err) {
      if (!(err instanceof KnownAfterApply)) throw err;
    }
    return { planned: { ...after(needs), changes }, value: new AfterApply(step.name) };
  };
  const unknown = (step.dependsOn ?? []).filter((d) => o.results.get(d) instanceof AfterApply);
  if (unknown.length > 0) return previewed(unknown);
  let check: CheckResult;
  try {
    check = await checkStep(step, ctx, o);
  } catch (err) {
    if (err instanceof KnownAfterApply) return previewed([err.step]);
    throw err;
  }
  if (check.satisfied)
    return { planned: { action: "none", reason: check.reason, changes: [], needs: [] }, value: check.value };
  return {
    planned: { action: step.apply ? "change" : "wait", reason: check.reason, changes: [], needs: [] },
    value: new AfterApply(step.name),
  };
}

function plannedSummary(p: PlannedStep): string {
  switch (p.action) {
    case "none":
      return `no change: ${p.reason}`;
    case "change":
      return `would change: ${p.reason}`;
    case "wait":
      return `would wait: ${p.reason}`;
    case "after-apply":
      return `known after apply (needs ${p.needs.join(", ")})${p.changes.length > 0 ? `: ${p.changes.join(", ")}` : ""}`;
  }
}

/**
 * Why a step stopped when the run's signal aborted: the run's own reason when it is a coded error
 * other than a cancellation (a lost lease stops every step with the lease error), else CANCELLED.
 */
function cancelError(step: string, reason: unknown): KubecontrolError {
  if (reason instanceof KubecontrolError && reason.code !== "CANCELLED") return reason;
  return new KubecontrolError("CANCELLED", `${step} was cancelled`, {
    hint: "re-run the command to continue",
  });
}
