import { problemsFromZod } from "./problems.js";
import { type ResolvedKubeApp, type ResolveOptions, resolveApp } from "./resolve.js";
import { kubeAppSchema } from "./schema.js";
import { type SpecProblem, semanticProblems } from "./semantic.js";

export type ValidationResult = { ok: true; app: ResolvedKubeApp } | { ok: false; problems: SpecProblem[] };

/** Validates a spec value (shape, then meaning) and applies defaults. Pure: no I/O. */
export function validateKubeApp(value: unknown, options: ResolveOptions = {}): ValidationResult {
  const parsed = kubeAppSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: problemsFromZod(parsed.error.issues, kubeAppSchema) };
  const problems = semanticProblems(parsed.data);
  if (problems.length > 0) return { ok: false, problems };
  const app = resolveApp(parsed.data, options);
  // Defaults can introduce a DNS name; check it against the zone like an explicit one.
  if (app.dns && app.dns.record !== app.dns.zone && !app.dns.record.endsWith(`.${app.dns.zone}`)) {
    return {
      ok: false,
      problems: [{ path: ["dns", "record"], message: `expected a name inside the zone "${app.dns.zone}"` }],
    };
  }
  return { ok: true, app };
}
