import type { EventSink, Phase } from "../io/events.js";

/** What `check` found: nothing to do (and why), or what is needed (and why). */
export type CheckResult<N = unknown> =
  /** `value` is the step's result when nothing had to change (e.g. the id of the resource adopted). */
  | { satisfied: true; reason: string; value?: unknown }
  /** `needed` says what apply must do: a check that is not satisfied always says it. */
  | { satisfied: false; reason: string; needed: N };

/** Handed to a step while it runs: cancellation, progress reporting, its own deadline. */
export interface StepContext {
  signal: AbortSignal;
  /** Says what the step waits for; the runner turns it into heartbeats. */
  waiting(reason: string): void;
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
  /** Reports a retried attempt (attempt = the one about to be made) as a step.retrying event. */
  retrying(attempt: number, reason: string, delayMs: number): void;
  /** Results of the steps this one depends on, by name. */
  results: ReadonlyMap<string, unknown>;
}

/**
 * One unit of work (DESIGN.md, principle 2): `check` reads and decides; `apply` is idempotent;
 * `wait` polls until the change has taken effect. Steps are named by verb: ensure*, waitFor*,
 * shift*, delete*.
 */
export interface Step<N = unknown, R = unknown> {
  name: string;
  description: string;
  dependsOn?: string[];
  /** Its phase, where its name does not say it (src/engine/phase.ts). */
  phase?: Phase;
  /** Whole-step deadline (check + apply + wait). */
  timeoutMs?: number;
  check(ctx: StepContext): Promise<CheckResult<N>>;
  apply?(ctx: StepContext, needed: N): Promise<R | undefined>;
  /** A value it returns replaces `applied` as the step's result (e.g. what was waited for). */
  wait?(ctx: StepContext, applied: R | undefined): Promise<R | undefined>;
  /** What the step reports when it is done (e.g. the id it created or adopted). */
  summarize?(changed: boolean, applied: R | undefined): string;
}

export interface RunOptions {
  /** How many steps run at once. */
  concurrency?: number;
  emit?: EventSink;
  signal?: AbortSignal;
  /** How often a waiting step's reason is repeated as a heartbeat. */
  heartbeatMs?: number;
  now?: () => number;
  /**
   * Resolves once every journal write so far is durable. Awaited before a step acts and after
   * each step ends, so a step's start is on record before it changes anything and its end
   * (with what it made) before the next one starts.
   */
  journalled?: () => Promise<void>;
}

export type StepStatus = "succeeded" | "failed" | "skipped" | "cancelled";

export interface StepReport {
  name: string;
  status: StepStatus;
  changed: boolean;
  durationMs: number;
  summary?: string;
  error?: Error;
  /** Why a step was skipped (a dependency failed). */
  reason?: string;
}

export interface RunReport {
  ok: boolean;
  cancelled: boolean;
  steps: StepReport[];
  results: Map<string, unknown>;
  durationMs: number;
}
