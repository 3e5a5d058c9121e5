/**
 * Typed events: the engine's only way to talk. The CLI renders them (TTY, plain lines, NDJSON)
 * and the history and console consume the same stream.
 */

export type StepOutcome = "succeeded" | "failed" | "skipped";

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
  retryable: boolean;
}

export type KubecontrolEvent =
  | { type: "run.started"; at: number; runId: string; command: string; app?: string; steps: number }
  | { type: "step.started"; at: number; step: string; description: string }
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
    }
  | { type: "step.failed"; at: number; step: string; error: ErrorInfo; durationMs: number }
  | { type: "step.skipped"; at: number; step: string; reason: string }
  | { type: "log"; at: number; level: "debug" | "info" | "warn" | "error"; message: string; step?: string }
  | {
      type: "run.finished";
      at: number;
      runId: string;
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
