/**
 * Typed events: the engine's only way to talk. The CLI renders them (TTY, plain lines, NDJSON)
 * and the history and console consume the same stream.
 */

export type StepOutcome = "succeeded" | "failed" | "skipped";

/**
 * What part of a deployment a step belongs to, in the order a run goes through them: finding
 * what exists, building (AWS stack, image, Kubernetes objects), rolling out onto a live colour,
 * verifying, switching DNS, draining, removing.
 */
export const PHASES = ["prepare", "build", "rollout", "verify", "switch", "drain", "remove"] as const;
export type Phase = (typeof PHASES)[number];

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
  retryable: boolean;
}

export type KubecontrolEvent =
  | {
      type: "run.started";
      at: number;
      runId: string;
      command: string;
      app?: string;
      steps: number;
      version?: string | null;
      /** The phases the run's steps belong to, in order. */
      phases?: Phase[];
      /** How long the run should take, from the app's past runs (absent when none). */
      estimateMs?: number;
    }
  | {
      /**
       * Where a run is: emitted when a step starts or ends, and with a waiting step's heartbeat.
       * `remainingMs` is the longest path through the steps not yet done, each taking the median
       * of its durations in the app's recent successful runs of the command (`basedOnRuns`); absent
       * when there are none. `phaseStarted` marks the first event of a phase.
       */
      type: "run.progress";
      at: number;
      runId: string;
      phase: Phase;
      phaseStarted: boolean;
      phases: Phase[];
      stepsDone: number;
      steps: number;
      elapsedMs: number;
      remainingMs?: number;
      basedOnRuns: number;
    }
  | { type: "step.started"; at: number; step: string; description: string; phase?: Phase }
  | { type: "step.checked"; at: number; step: string; satisfied: boolean; reason: string }
  | { type: "step.waiting"; at: number; step: string; reason: string; elapsedMs: number }
  | { type: "step.retrying"; at: number; step: string; attempt: number; reason: string; delayMs: number }
  | {
      type: "step.succeeded";
      at: number;
      step: string;
      changed: boolean;
      summary: string;
      durationMs: number;
      /** In a plan (a dry run): what the step would do; nothing was applied. */
      planned?: "none" | "change" | "wait" | "after-apply";
    }
  | { type: "step.failed"; at: number; step: string; error: ErrorInfo; durationMs: number }
  | { type: "step.skipped"; at: number; step: string; reason: string }
  | { type: "log"; at: number; level: "debug" | "info" | "warn" | "error"; message: string; step?: string }
  | {
      type: "run.finished";
      at: number;
      runId: string;
      version?: string | null;
      result: "succeeded" | "failed" | "cancelled" | "no-op";
      durationMs: number;
      changed: string[];
      failed: string[];
    };

export type EventType = KubecontrolEvent["type"];

/** Where events go. Sinks must not throw; a failing renderer never fails a deployment. */
export type EventSink = (event: KubecontrolEvent) => void;

/** Fans one event out to several sinks. */
export function fanOut(...sinks: EventSink[]): EventSink {
  return (event) => {
    for (const sink of sinks) {
      try {
        sink(event);
      } catch {
        // A renderer's failure must not stop the run it reports on.
      }
    }
  };
}
