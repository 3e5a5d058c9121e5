import { PHASES, type Phase } from "../io/events.js";
import type { Step } from "./step.js";

/**
 * The phase of a step: the one it declares, else the one its name says (steps are named by
 * verb, STYLE.md): `delete-*` removes, `switch-*`/`shift-*` move DNS, a drain drains,
 * `verify*` and the waits for workloads and targets verify, a roll-out rolls out, `find-*`
 * prepares, and everything else (`ensure*`, the image, the nodes) builds.
 */
export function phaseOf(step: Pick<Step, "name" | "phase">): Phase {
  if (step.phase) return step.phase;
  const n = step.name;
  if (/^delete[-A-Z]/.test(n)) return "remove";
  if (/^(switch|shift)[-A-Z]/.test(n)) return "switch";
  if (/drain/i.test(n)) return "drain";
  if (/^verify|^waitFor(Workloads|HealthyTargets)$|^judge/i.test(n)) return "verify";
  if (/^rollOut|^roll-out/.test(n)) return "rollout";
  if (/^find[-A-Z]/.test(n)) return "prepare";
  return "build";
}

/** The distinct phases of a graph, in the order a run goes through them. */
export function phasesOf(steps: readonly Pick<Step, "name" | "phase">[]): Phase[] {
  const present = new Set(steps.map(phaseOf));
  return PHASES.filter((p) => present.has(p));
}
