import type { KubecontrolEvent } from "./events.js";

/** 1500 → "1.5s", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m}m${rest}s` : `${m}m`;
}

/** A long span for people, to the minute: 42_000 → "42s", 11_100_000 → "3h 5m", three days → "3d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** One event as one line of text (no timestamp), or undefined for events not worth a line. */
export function describeEvent(e: KubecontrolEvent, verbose = false): string | undefined {
  switch (e.type) {
    case "run.started":
      return `${e.command}${e.app ? ` ${e.app}` : ""}: ${e.steps} steps (run ${e.runId})${e.estimateMs !== undefined ? `, ${timeLeft(e.estimateMs).replace(/ left$/, "")} by its past runs` : ""}`;
    case "run.progress":
      // A line per phase: cron's log says where a run was, not every step twice more.
      return e.phaseStarted || verbose
        ? `phase ${e.phase} (${e.phases.indexOf(e.phase) + 1}/${e.phases.length}): ${e.stepsDone}/${e.steps} steps done${e.remainingMs !== undefined ? `, ${timeLeft(e.remainingMs)}` : ""}`
        : undefined;
    case "step.started":
      return verbose ? `${e.step}: started (${e.description})` : undefined;
    case "step.checked":
      return verbose || !e.satisfied
        ? `${e.step}: ${e.satisfied ? "in place" : "needed"}: ${e.reason}`
        : undefined;
    case "step.waiting":
      return `${e.step}: still waiting for ${e.reason} (${formatDuration(e.elapsedMs)})`;
    case "step.retrying":
      return `${e.step}: attempt ${e.attempt} failed (${e.reason}); retrying in ${formatDuration(e.delayMs)}`;
    case "step.succeeded":
      return `${e.step}: ${e.planned ? "" : e.changed ? "done: " : "no change: "}${e.summary} (${formatDuration(e.durationMs)})`;
    case "step.failed":
      return `${e.step}: FAILED: ${e.error.message}${e.error.hint ? ` (${e.error.hint})` : ""}`;
    case "step.skipped":
      return `${e.step}: skipped: ${e.reason}`;
    case "log":
      return `${e.step ? `${e.step}: ` : ""}${e.level}: ${e.message}`;
    case "run.finished":
      return summaryLine(e);
  }
}

/** "about 4m left", coarse on purpose: an estimate from a handful of past runs. */
export function timeLeft(ms: number): string {
  if (ms <= 0) return "taking longer than its past runs";
  if (ms < 60_000) return "less than a minute left";
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `about ${h > 0 ? `${h}h${m ? `${m}m` : ""}` : `${m}m`} left`;
}

function summaryLine(e: Extract<KubecontrolEvent, { type: "run.finished" }>): string {
  const parts = [`result: ${e.result}`, `in ${formatDuration(e.durationMs)}`];
  if (e.changed.length > 0) parts.push(`changed: ${e.changed.join(", ")}`);
  if (e.failed.length > 0) parts.push(`failed: ${e.failed.join(", ")}`);
  return parts.join("; ");
}
