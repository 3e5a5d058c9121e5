import { KubecontrolError } from "../../errors.js";
import { withChangeGate } from "../../fence.js";
import type { EventSink } from "../../io/events.js";
import { runSteps } from "../runner.js";
import type { RunReport, Step } from "../step.js";

/** What a dry run found, step by step in graph order. */
export interface DryRunFindings {
  /** Steps whose check found work: what they would change, or wait for. */
  wouldChange: { step: string; description: string; reason: string; action: "change" | "wait" }[];
  /** Steps that need what earlier ones would make: what they would do, known after apply. */
  afterApply: { step: string; description: string; changes: string[]; needs: string[] }[];
  /** Steps not checked because a check before them hit a real problem. */
  unchecked: string[];
  errors: { step: string; message: string }[];
}

/**
 * The plan of a step graph (the runner's plan mode): every step checked, or previewed as known
 * after apply when it needs what an earlier one would make; nothing applied. Throws CANCELLED
 * when interrupted. Every command's dry run goes through here, inside `readOnly`.
 */
export async function planGraph(
  steps: readonly Step[],
  o: { concurrency: number; emit: EventSink; signal?: AbortSignal | undefined },
): Promise<{ report: RunReport; findings: DryRunFindings }> {
  const report = await runSteps(steps, {
    plan: true,
    concurrency: o.concurrency,
    // Skipped steps are listed once in the summary.
    emit: (e) => e.type !== "step.skipped" && o.emit(e),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (report.cancelled)
    throw new KubecontrolError("CANCELLED", "the dry run was cancelled", {
      hint: "run the same command again",
    });
  return { report, findings: dryRunFindings(report) };
}

/** Sorts a plan's report into what would change, what is known after apply, and real errors. */
export function dryRunFindings(report: RunReport): DryRunFindings {
  const f: DryRunFindings = { wouldChange: [], afterApply: [], unchecked: [], errors: [] };
  for (const s of report.steps) {
    const p = s.planned;
    const description = s.description ?? s.name;
    if (s.status === "skipped") f.unchecked.push(s.name);
    else if (s.status === "failed") f.errors.push({ step: s.name, message: s.error?.message ?? "failed" });
    else if (p?.action === "change" || p?.action === "wait")
      f.wouldChange.push({ step: s.name, description, reason: p.reason, action: p.action });
    else if (p?.action === "after-apply")
      f.afterApply.push({ step: s.name, description, changes: p.changes, needs: p.needs });
  }
  return f;
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
