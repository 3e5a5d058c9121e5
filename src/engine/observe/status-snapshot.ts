import { KubecontrolError } from "../../errors.js";
import type { AppStatus } from "./app-status.js";

// A fleet's status as `kubecontrol status -o json` printed it, read back (status --from, console
// --snapshot): for demos and benchmarks, nothing is read live.

/**
 * The apps of a snapshot (`{"apps": [...]}` or a bare array), checked enough to judge and render:
 * each an object with app, health, problems and readAt. `where` names the file for errors.
 */
export function parseStatusSnapshot(text: string, where: string): AppStatus[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw snapshotError(where, `not JSON (${(err as Error).message})`);
  }
  const apps = Array.isArray(doc) ? doc : (doc as { apps?: unknown } | null)?.apps;
  if (!Array.isArray(apps)) throw snapshotError(where, 'expected {"apps": [...]} or an array of apps');
  apps.forEach((a, i) => {
    const s = a as Partial<AppStatus> | null;
    const bad = (field: string, expected: string) =>
      snapshotError(where, `apps[${i}].${field}: expected ${expected}`);
    if (!s || typeof s !== "object") throw snapshotError(where, `apps[${i}]: expected an object`);
    if (typeof s.app !== "string" || !s.app) throw bad("app", "the app's name");
    if (typeof s.health !== "string") throw bad("health", "a word of health");
    if (!Array.isArray(s.problems)) throw bad("problems", "an array of text");
    if (typeof s.readAt !== "number") throw bad("readAt", "epoch milliseconds");
  });
  return apps as AppStatus[];
}

function snapshotError(where: string, what: string): KubecontrolError {
  return new KubecontrolError("CONFIG_INVALID", `${where}: ${what}`, {
    hint: "give the output of kubecontrol status --all -o json",
  });
}
