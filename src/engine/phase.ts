import { PHASES, type Phase } from "../io/events.js";
import type { Step } from "./step.js";

/**
 * The phase of a step: the one it declares, else the one its name says. Step names are
 * kebab-case and begin with their verb (STYLE.md; docs/architecture.md lists them):
 * `delete-*` removes, `switch-*`/`shift-*` move DNS, `wait-for-drain` drains, `verify-*` judges,
 * `roll-out-*` rolls out, `find-*` prepares, and everything else (`ensure-*`, `wait-for-nodes`,
 * `keep-live-image`, `mark-retention`) builds.
 */
export function phaseOf(step: Pick<Step, "name" | "phase">): Phase {
  if (step.phase) return step.phase;
  const verb = /^[a-z]+(-for-[a-z]+|-out)?/.exec(step.name)?.[0] ?? "";
  switch (verb) {
    case "delete":
      return "remove";
    case "switch":
    case "shift":
      return "switch";
    case "wait-for-drain":
      return "drain";
    case "verify":
      return "verify";
    case "roll-out":
      return "rollout";
    case "find":
      return "prepare";
    default:
      return "build";
  }
}

/** The distinct phases of a graph, in the order a run goes through them. */
export function phasesOf(steps: readonly Pick<Step, "name" | "phase">[]): Phase[] {
  const present = new Set(steps.map(phaseOf));
  return PHASES.filter((p) => present.has(p));
}
