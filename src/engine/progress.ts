import type { HistoryStore } from "../history/types.js";
import { type EventSink, type KubecontrolEvent, PHASES, type Phase } from "../io/events.js";
import { phaseOf, phasesOf } from "./phase.js";
import type { Step } from "./step.js";

/** How many of the app's latest successful runs of a command the estimate learns from. */
export const ESTIMATE_RUNS = 5;

/** What the estimate knows: each step's median duration (by step key), from how many runs. */
export interface PastDurations {
  medians: Map<string, number>;
  runs: number;
}

/**
 * A step's name without its colour (`delete-live-image-tags/blue` and `.../green` are one step
 * for the estimate, as blue/green updates alternate).
 */
export function stepKey(name: string): string {
  return name.replace(/\/(blue|green)(?=\/|$)/g, "/*");
}

/**
 * The median duration of each step in the app's last successful runs of `command` (at most
 * ESTIMATE_RUNS), read from the shared store. Reads only; never fails the run: an unreadable
 * history is no history.
 */
export async function pastDurations(
  store: HistoryStore,
  app: string,
  command: string,
  exclude?: string,
): Promise<PastDurations> {
  const runs = (await store.listRuns({ app, result: "succeeded", limit: 50 }))
    .filter((r) => r.command === command && r.id !== exclude)
    .slice(0, ESTIMATE_RUNS);
  const samples = new Map<string, number[]>();
  for (const r of runs) {
    const got = await store.getRun(r.id);
    for (const s of got?.steps ?? []) {
      if (s.status !== "succeeded" || s.finishedAt === null) continue;
      const key = stepKey(s.step);
      samples.set(key, [...(samples.get(key) ?? []), s.finishedAt - s.startedAt]);
    }
  }
  const medians = new Map<string, number>();
  for (const [key, values] of samples) medians.set(key, median(values));
  return { medians, runs: runs.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type StepState = { started?: number; ended?: boolean };

/**
 * The time left: the longest path through the steps not yet ended, each taking its median (a
 * running one what is left of it, at least nothing), the concurrency bound aside. A step never
 * seen before counts for nothing. Undefined without past runs.
 */
export function remainingMs(
  steps: readonly Pick<Step, "name" | "dependsOn">[],
  past: PastDurations,
  state: ReadonlyMap<string, StepState>,
  now: number,
): number | undefined {
  if (past.runs === 0) return undefined;
  const byName = new Map(steps.map((s) => [s.name, s]));
  const finish = new Map<string, number>();
  const finishOf = (name: string): number => {
    const known = finish.get(name);
    if (known !== undefined) return known;
    const s = state.get(name);
    let t = 0;
    if (!s?.ended) {
      const own = past.medians.get(stepKey(name)) ?? 0;
      if (s?.started !== undefined) t = Math.max(0, own - (now - s.started));
      else {
        const after = (byName.get(name)?.dependsOn ?? []).map(finishOf);
        t = Math.max(0, ...after) + own;
      }
    }
    finish.set(name, t);
    return t;
  };
  return Math.round(Math.max(0, ...steps.map((s) => finishOf(s.name))));
}

/**
 * Follows a run's step events and adds `run.progress` after each start and end (and a waiting
 * step's heartbeat, at most every `everyMs`): the phase, steps done, time elapsed and left.
 */
export function progressTracker(
  o: { runId: string; steps: readonly Step[]; past: PastDurations; startedAt: number; everyMs?: number },
  emit: EventSink,
): EventSink {
  const phases = phasesOf(o.steps);
  const phaseByStep = new Map(o.steps.map((s) => [s.name, phaseOf(s)]));
  const state = new Map<string, StepState>();
  let lastPhase: Phase | undefined;
  let lastAt = 0;
  const everyMs = o.everyMs ?? 5_000;

  /** The earliest phase with a step running, else with a step yet to run, else the last. */
  const currentPhase = (): Phase => {
    const open = (running: boolean) =>
      phases.find((p) =>
        o.steps.some((s) => {
          const st = state.get(s.name);
          return phaseByStep.get(s.name) === p && !st?.ended && (st?.started !== undefined) === running;
        }),
      );
    return open(true) ?? open(false) ?? phases[phases.length - 1] ?? "build";
  };

  return (e: KubecontrolEvent) => {
    emit(e);
    const step = "step" in e ? e.step : undefined;
    if (!step || !phaseByStep.has(step)) return;
    if (e.type === "step.started") state.set(step, { started: e.at });
    else if (e.type === "step.succeeded" || e.type === "step.failed" || e.type === "step.skipped")
      state.set(step, { ...state.get(step), ended: true });
    else if (e.type !== "step.waiting" || e.at - lastAt < everyMs) return;
    // A run's phase only moves forward: a step of an earlier one that starts late (a find that
    // waited for a dependency) does not take the run back.
    const now = currentPhase();
    const phase = lastPhase && PHASES.indexOf(lastPhase) > PHASES.indexOf(now) ? lastPhase : now;
    const remaining = remainingMs(o.steps, o.past, state, e.at);
    lastAt = e.at;
    emit({
      type: "run.progress",
      at: e.at,
      runId: o.runId,
      phase,
      phaseStarted: phase !== lastPhase,
      phases,
      stepsDone: [...state.values()].filter((s) => s.ended).length,
      steps: o.steps.length,
      elapsedMs: e.at - o.startedAt,
      ...(remaining !== undefined ? { remainingMs: remaining } : {}),
      basedOnRuns: o.past.runs,
    });
    lastPhase = phase;
  };
}
