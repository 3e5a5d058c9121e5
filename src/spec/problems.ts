import type { z } from "zod";
import { KubecontrolError } from "../errors.js";
import { nearest } from "./primitives.js";
import type { SpecProblem } from "./semantic.js";

/** Formats a field path as people write it: `components.web.containers[0].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(top level)";
}

/** A short, safe description of a value for "found ..." (never the whole object). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is required)";
  if (value === null) return "null";
  if (typeof value === "string")
    return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "function") return "a function";
  return "an object";
}

/** Turns zod issues into spec problems, with the nearest known key suggested for unknown keys. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)) as (string | number)[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const guess = nearest(key, known);
        problems.push({
          path: [...path, key],
          message: `unknown field "${key}"; expected one of: ${known.join(", ")}`,
          hint: guess
            ? `did you mean "${guess}"?`
            : "remove it: unknown fields are errors so that a typo cannot pass silently",
        });
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      const inner = issue.issues[0];
      problems.push({
        path,
        message: `${inner?.message ?? "invalid key"}, found ${describeValue(issue.input)}`,
      });
      continue;
    }
    const found = "input" in issue ? issue.input : undefined;
    const message = issue.message.includes("found")
      ? issue.message
      : `${issue.message}, found ${describeValue(found)}`;
    problems.push({ path, message });
  }
  return problems;
}

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType as AnySchema;
    else if (def.type === "pipe") s = def.in as AnySchema;
    else if (def.type === "lazy" && typeof def.getter === "function") s = (def.getter as () => AnySchema)();
    else return s;
  }
  return s;
}

/** The keys an object schema accepts at a field path (empty when the path does not lead to an object). */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let candidates: AnySchema[] = [unwrap(schema as unknown as AnySchema)];
  for (const part of path) {
    const next: AnySchema[] = [];
    for (const s of candidates.flatMap(expandUnion)) {
      const def = s._zod.def;
      if (def.type === "object" && typeof part === "string") {
        const child = (def.shape as Record<string, AnySchema>)[part];
        if (child) next.push(unwrap(child));
      } else if (def.type === "record") next.push(unwrap(def.valueType as AnySchema));
      else if (def.type === "array") next.push(unwrap(def.element as AnySchema));
    }
    candidates = next;
  }
  const keys = new Set<string>();
  for (const s of candidates.flatMap(expandUnion)) {
    if (s._zod.def.type === "object") for (const k of Object.keys(s._zod.def.shape as object)) keys.add(k);
  }
  return [...keys];
}

function expandUnion(s: AnySchema): AnySchema[] {
  return s._zod.def.type === "union" ? (s._zod.def.options as AnySchema[]).map(unwrap) : [s];
}

/** One error for every problem in one spec file, readable as a block. */
export function specError(file: string, problems: SpecProblem[]): KubecontrolError {
  const lines = problems.map(
    (p) => `  ${formatPath(p.path)}: ${p.message}${p.hint ? `\n    ${p.hint}` : ""}`,
  );
  const noun = problems.length === 1 ? "problem" : "problems";
  return new KubecontrolError(
    "SPEC_INVALID",
    `${file}: invalid KubeApp spec (${problems.length} ${noun})\n${lines.join("\n")}`,
    {
      hint: "fix the fields named above; `kubecontrol validate` checks every spec without touching AWS",
      details: { file, problems: problems.map((p) => ({ ...p, field: formatPath(p.path) })) },
    },
  );
}
