import type { RunReport } from "../step.js";

/** A workflow's result for the summary: what changed and how long each step took. */
export interface WorkflowOutcome {
  runId: string;
  result: "succeeded" | "no-op";
  report: RunReport;
  changed: string[];
}

/** Sums up a successful run: no-op when no step changed anything. */
export function outcomeOf(runId: string, report: RunReport): WorkflowOutcome {
  const changed = report.steps.filter((s) => s.changed).map((s) => s.name);
  return { runId, result: changed.length === 0 ? "no-op" : "succeeded", report, changed };
}

const reports = new WeakMap<Error, RunReport>();

/** Keeps a failed run's report with its error, for the summary the CLI prints. */
export function attachReport(error: Error, report: RunReport): void {
  reports.set(error, report);
}

/** The report of the run an error ended, if it got as far as running steps. */
export function reportOf(error: Error): RunReport | undefined {
  return reports.get(error);
}
