import { KubecontrolError } from "../../errors.js";
import { DNS_LABEL } from "../../spec/primitives.js";
import type { AppStatus } from "./app-status.js";

// A fleet's status as `kubecontrol status -o json` printed it, read back (status --from, console
// --snapshot): for demos and benchmarks, nothing is read live. The file may come from anyone, so
// it is checked before anything renders it: sizes, depth, the types the renderers read, and no
// control characters in any text (they would reach a terminal).

/** The largest snapshot read (a fleet of a thousand apps prints a few megabytes). */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;
/** How deep a status nests (tags and views are a few levels): deeper is not one. */
const MAX_DEPTH = 16;
/** C0 and C1 control characters and DEL, but for tab and newline (an error's text may have them). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Reads a snapshot file, refusing one larger than SNAPSHOT_MAX_BYTES before reading it. */
export async function readSnapshotText(file: string, where: string): Promise<string> {
  const { readFile, stat } = await import("node:fs/promises");
  const { size } = await stat(file);
  if (size > SNAPSHOT_MAX_BYTES)
    throw snapshotError(where, `larger than ${SNAPSHOT_MAX_BYTES / 1024 / 1024} MiB: not a status snapshot`);
  return readFile(file, "utf8");
}

/**
 * The apps of a snapshot (`{"apps": [...]}` or a bare array), checked enough to judge and render:
 * each an object with app (an app's name), health, problems (text) and readAt, its colours, live
 * colour, lease and last run objects when present, and no control character in any text. `where`
 * names the file for errors.
 */
export function parseStatusSnapshot(text: string, where: string): AppStatus[] {
  if (text.length > SNAPSHOT_MAX_BYTES)
    throw snapshotError(where, `larger than ${SNAPSHOT_MAX_BYTES / 1024 / 1024} MiB: not a status snapshot`);
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
    if (!s || typeof s !== "object" || Array.isArray(s))
      throw snapshotError(where, `apps[${i}]: expected an object`);
    if (typeof s.app !== "string" || !DNS_LABEL.test(s.app) || s.app.length > 63)
      throw bad("app", "an app's name (lower-case letters, digits and '-')");
    if (typeof s.health !== "string") throw bad("health", "a word of health");
    if (!Array.isArray(s.problems)) throw bad("problems", "an array of text");
    s.problems.forEach((p, j) => {
      if (typeof p !== "string") throw bad(`problems[${j}]`, "text");
    });
    if (typeof s.readAt !== "number") throw bad("readAt", "epoch milliseconds");
    for (const field of ["live", "lease", "lastRun", "source"] as const)
      if (s[field] != null && !isObject(s[field])) throw bad(field, "an object");
    for (const field of ["dnsName", "error"] as const)
      if (s[field] != null && typeof s[field] !== "string") throw bad(field, "text");
    if (s.colours != null) {
      if (!isObject(s.colours)) throw bad("colours", "an object of blue and green");
      for (const colour of ["blue", "green"] as const) {
        const c = (s.colours as Record<string, unknown>)[colour] as Record<string, unknown> | undefined;
        if (c == null) continue;
        if (!isObject(c)) throw bad(`colours.${colour}`, "an object");
        if (c.cluster != null) {
          if (!isObject(c.cluster)) throw bad(`colours.${colour}.cluster`, "an object");
          const cl = c.cluster as Record<string, unknown>;
          if (typeof cl.name !== "string") throw bad(`colours.${colour}.cluster.name`, "text");
          if (typeof cl.status !== "string") throw bad(`colours.${colour}.cluster.status`, "text");
          if (cl.tags != null && !isObject(cl.tags)) throw bad(`colours.${colour}.cluster.tags`, "an object");
        }
        if (c.record != null) {
          if (!isObject(c.record)) throw bad(`colours.${colour}.record`, "an object");
          if (typeof (c.record as Record<string, unknown>).weight !== "number")
            throw bad(`colours.${colour}.record.weight`, "a number");
        }
      }
    }
    checkText(s, `apps[${i}]`, 0, where);
  });
  return apps as AppStatus[];
}

function isObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Refuses text with a control character, and nesting deeper than MAX_DEPTH, anywhere in `v`. */
function checkText(v: unknown, path: string, depth: number, where: string): void {
  if (depth > MAX_DEPTH) throw snapshotError(where, `${path}: nested deeper than ${MAX_DEPTH} levels`);
  if (typeof v === "string") {
    if (CONTROL.test(v))
      throw snapshotError(where, `${path}: text with a control character (a terminal escape?)`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkText(x, `${path}[${i}]`, depth + 1, where);
    });
  } else if (typeof v === "object" && v !== null)
    for (const [k, x] of Object.entries(v)) {
      if (CONTROL.test(k)) throw snapshotError(where, `${path}: a key with a control character`);
      checkText(x, `${path}.${k}`, depth + 1, where);
    }
}

function snapshotError(where: string, what: string): KubecontrolError {
  return new KubecontrolError("CONFIG_INVALID", `${where}: ${what}`, {
    hint: "give the output of kubecontrol status --all -o json",
  });
}
