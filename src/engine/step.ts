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
  /**
   * The result of a step this one depends on. In a plan, a result that only exists once an
   * earlier step has acted throws KnownAfterApply.
   */
  result<R>(ref: StepRef<R>): R;
}

/** A typed reference to a step's result: what `ctx.result` reads. */
export interface StepRef<R> {
  readonly step: string;
  /** Never set: carries the result's type. */
  readonly _result?: R;
}

/** The reference to the result of the step named `step`. */
export function stepRef<R>(step: string): StepRef<R> {
  return { step };
}

/**
 * Thrown in a plan when a step needs a value that only exists once an earlier step has acted
 * (a new cluster's endpoint, a new role's ARN): the step is listed as known after apply.
 */
export class KnownAfterApply extends Error {
  constructor(readonly step: string) {
    super(`known after ${step} has run`);
  }
}

/**
 * One unit of work (DESIGN.md, principle 2): `check` reads and decides; `apply` is idempotent;
 * `wait` polls until the change has taken effect. Step names are kebab-case, verb first
 * (`ensure-image`, `wait-for-nodes`, `shift-dns/blue`, `delete-eks-cluster/main`).
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
  /**
   * In a plan, what the step would do when what it needs is known only after apply (the objects
   * a new cluster would get): one line per change. Without it the plan shows the description.
   */
  preview?(ctx: StepContext): Promise<string[]>;
}

/** What a plan says of a step. */
export interface PlannedStep {
  /**
   * none: already as planned; change: its check found work; wait: it would wait or verify;
   * after-apply: it needs what earlier steps would make, so it was not checked.
   */
  action: "none" | "change" | "wait" | "after-apply";
  /** The check's reason, or the step's description when it was not checked. */
  reason: string;
  /** For after-apply: each change its preview lists (the check's reason says it otherwise). */
  changes: string[];
  /** For after-apply: the steps whose results it waits for. */
  needs: string[];
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
  /**
   * Plan only (a dry run): each step is checked, never applied; a step that would change makes
   * its dependants "known after apply" (their previews are listed instead of their checks).
   */
  plan?: boolean;
}

export type StepStatus = "succeeded" | "failed" | "skipped" | "cancelled";

export interface StepReport {
  name: string;
  /** The step's description (what it ensures, waits for or removes). */
  description?: string;
  status: StepStatus;
  changed: boolean;
  durationMs: number;
  summary?: string;
  error?: Error;
  /** Why a step was skipped (a dependency failed). */
  reason?: string;
  /** In a plan: what the step would do. */
  planned?: PlannedStep;
}

export interface RunReport {
  ok: boolean;
  cancelled: boolean;
  steps: StepReport[];
  results: Map<string, unknown>;
  durationMs: number;
}
