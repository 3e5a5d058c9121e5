import { KubecontrolError } from "../../errors.js";
import { withChangeGate } from "../../fence.js";
import type { EventSink } from "../../io/events.js";
import type { RunReport, Step } from "../step.js";

const WOULD_CHANGE = "would change";

/**
 * The same graph, checks only: a step whose check finds work stops there (its dependants are
 * not checked, since they would read what it has not made). Nothing is applied.
 */
export function checksOnly(steps: readonly Step[]): Step[] {
  return steps.map((s) => {
    const { apply: _a, wait: _w, ...rest } = s;
    return {
      ...rest,
      async check(ctx) {
        const c = await s.check(ctx);
        if (c.satisfied) return c;
        throw new KubecontrolError("PRECONDITION", `${WOULD_CHANGE}: ${c.reason}`, {
          details: { dryRun: true },
        });
      },
    };
  });
}

/** What a dry run found: steps that would act (and why), steps not checked, and real errors. */
export interface DryRunFindings {
  wouldChange: { step: string; reason: string }[];
  unchecked: string[];
  errors: { step: string; message: string }[];
}

/** Sorts a checks-only run's report into what would change and what went wrong. */
export function dryRunFindings(report: RunReport): DryRunFindings {
  const f: DryRunFindings = { wouldChange: [], unchecked: [], errors: [] };
  for (const s of report.steps) {
    if (s.status === "skipped") f.unchecked.push(s.name);
    else if (s.status === "failed" && s.error instanceof KubecontrolError && s.error.details?.dryRun)
      f.wouldChange.push({ step: s.name, reason: s.error.message.slice(WOULD_CHANGE.length + 2) });
    else if (s.status === "failed") f.errors.push({ step: s.name, message: s.error?.message ?? "failed" });
  }
  return f;
}

/** In a dry run, a check that finds work is news, not a failure. */
export function dryRunEvents(emit: EventSink): EventSink {
  return (e) => {
    if (e.type === "step.failed" && e.error.message.startsWith("would change")) {
      emit({ type: "log", at: e.at, level: "info", step: e.step, message: e.error.message });
    } else if (e.type !== "step.skipped") emit(e);
    // Skipped steps are listed once in the summary ("after those, N steps would run").
  };
}

/**
 * Runs a dry run behind a gate that refuses every change (src/fence.ts): an AWS request that is
 * not a read, a Kubernetes write other than a server-side dry run, an image push. A dry run that
 * tried one would be a bug; it fails instead of changing anything.
 */
export function readOnly<T>(fn: () => Promise<T>): Promise<T> {
  return withChangeGate(
    {
      check(what) {
        throw new KubecontrolError(
          "INTERNAL",
          `a dry run tried to change something (${what}); nothing was changed`,
          {
            hint: "this is a bug in kubecontrol: please report it with the command you ran",
          },
        );
      },
    },
    fn,
  );
}
