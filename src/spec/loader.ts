import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { specError } from "./problems.js";
import type { ResolvedKubeApp, ResolveOptions } from "./resolve.js";
import type { SpecProblem } from "./semantic.js";
import { type Imported, importSpecs, packageEntry, specCacheDir } from "./spec-worker.js";
import { validateKubeApp } from "./validate.js";

/** A spec file that loaded and validated. */
export interface LoadedApp {
  file: string;
  app: ResolvedKubeApp;
}

/** Everything found in an apps directory: the good apps and one error per broken file. */
export interface LoadResult {
  apps: LoadedApp[];
  errors: KubecontrolError[];
}

export interface LoadOptions extends ResolveOptions {
  /** Reuse transpiled specs across runs (default true; KUBECONTROL_SPEC_CACHE=0 turns it off). */
  cache?: boolean;
}

/** Spec files: apps/*.ts, minus helpers (apps/lib/ is a directory, so never listed), hooks and declarations. */
export function listSpecFiles(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new KubecontrolError("NOT_FOUND", `apps directory ${dir} does not exist`, {
      hint: "run from the directory holding apps/, or pass --apps DIR",
    });
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts)$/.test(e.name) && !/\.(d|verify|test|spec)\.m?ts$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

type Importer = (file: string) => Promise<unknown>;

let importer: Importer | undefined;

/** The in-process TypeScript loader for verify hooks, created on first use. */
async function hookImporter(): Promise<Importer> {
  if (importer) return importer;
  const { createJiti } = await import("jiti");
  const jiti = createJiti(import.meta.url, {
    alias: { kubecontrol: packageEntry() },
    fsCache: specCacheDir(true),
    moduleCache: false,
    interopDefault: false,
  });
  importer = (file) => jiti.import(file);
  return importer;
}

/** Imports a module next to the specs (a verify hook) with the spec loader: TypeScript, `kubecontrol` resolved. */
export async function importAppModule(file: string): Promise<unknown> {
  return (await hookImporter())(file);
}

/** Loads one spec file: import, default export, validate, resolve defaults. Throws a coded error naming the file. */
export async function loadSpecFile(file: string, options: LoadOptions = {}): Promise<LoadedApp> {
  const [imported] = await importSpecs([file], { cache: options.cache ?? true });
  return fromImported(imported!, options);
}

/** A spec's default export, validated and resolved; a coded error naming the file otherwise. */
function fromImported(imported: Imported, options: LoadOptions): LoadedApp {
  const file = imported.file;
  const display = path.relative(process.cwd(), file) || file;
  if (!imported.ok) {
    const what =
      imported.reason === "failed"
        ? `could not load the spec: ${firstLines(imported.message.replaceAll(file, display))}`
        : imported.reason === "not-data"
          ? `its default export is not plain data (a function or class instance in it?): ${imported.message}`
          : `the spec ${imported.message}`;
    throw new KubecontrolError("SPEC_LOAD", `${display}: ${what}`, {
      hint:
        imported.reason === "failed"
          ? "fix the TypeScript error or the failing import named above"
          : "a spec is code run with the deployer's rights: it must only build and export its KubeApp",
      details: { file: display, reason: imported.reason },
    });
  }
  const mod = { default: imported.value };
  const value = mod.default;
  if (value === undefined || value === null || typeof value !== "object") {
    const problem: SpecProblem = {
      path: [],
      message: `expected a default export made with defineKubeApp({...}), found ${value === undefined ? "no default export" : typeof value}`,
      hint: 'end the file with: export default defineKubeApp({ name: "...", ... })',
    };
    throw specError(display, [problem]);
  }
  const result = validateKubeApp(value, options);
  if (!result.ok) throw specError(display, result.problems);
  const hook = result.app.deploy.verify.hook;
  // The hook is code run with the deployer's rights: from inside the project only.
  const project = path.dirname(path.dirname(path.resolve(file)));
  const hookFile = hook ? path.resolve(path.dirname(file), hook) : undefined;
  if (hookFile && path.relative(project, hookFile).startsWith("..")) {
    throw specError(display, [
      {
        path: ["deploy", "verify", "hook"],
        message: `expected a file inside the project (${project}), found ${hook}`,
      },
    ]);
  }
  if (hook && !existsSync(path.resolve(path.dirname(file), hook))) {
    throw specError(display, [
      {
        path: ["deploy", "verify", "hook"],
        message: `expected a file relative to the spec, found no file at ${hook}`,
      },
    ]);
  }
  return { file: display, app: result.app };
}

/** The useful head of a loader error: no require stacks, no blank lines. */
function firstLines(text: string): string {
  const lines = text.split("\n").map((l) => l.trimEnd());
  const stack = lines.findIndex((l) => l.startsWith("Require stack"));
  return (stack >= 0 ? lines.slice(0, stack) : lines)
    .filter((l) => l.trim() !== "")
    .slice(0, 6)
    .join("\n");
}

/**
 * Loads every spec in a directory; broken files become errors, and so do two apps with one name,
 * one ECR repository or one DNS record (naming both files).
 */
export async function loadApps(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const files = listSpecFiles(dir);
  const imported = await importSpecs(files, { cache: options.cache ?? true });
  const settled = imported.map((i): PromiseSettledResult<LoadedApp> => {
    try {
      return { status: "fulfilled", value: fromImported(i, options) };
    } catch (reason) {
      return { status: "rejected", reason };
    }
  });
  const apps: LoadedApp[] = [];
  const errors: KubecontrolError[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") apps.push(s.value);
    else
      errors.push(
        s.reason instanceof KubecontrolError ? s.reason : new KubecontrolError("SPEC_LOAD", String(s.reason)),
      );
  }
  // What an app claims for itself alone: its name, its ECR repository, its DNS record. A second
  // claim is an error naming both files (the first app keeps it).
  const claims: { what: string; path: string; hint: string; of(a: LoadedApp["app"]): string | undefined }[] =
    [
      {
        what: "are named",
        path: "name",
        hint: "app names are unique: rename one of them",
        of: (a) => a.name,
      },
      {
        what: "claim the ECR repository",
        path: "image.repository",
        hint: "each app pushes to a repository of its own (destroy removes it with its images): name another one",
        of: (a) => a.image.repository,
      },
      {
        what: "claim the DNS record",
        path: "dns.record",
        hint: "each app's weighted record set is its own (its colours move its weights): give one of them another record",
        of: (a) => a.dns?.record,
      },
    ];
  const claimed = claims.map(() => new Map<string, LoadedApp>());
  const unique: LoadedApp[] = [];
  for (const loaded of apps) {
    let refused = false;
    claims.forEach((c, i) => {
      const value = c.of(loaded.app);
      if (value === undefined) return;
      const first = claimed[i]!.get(value);
      if (!first) {
        claimed[i]!.set(value, loaded);
        return;
      }
      refused = true;
      errors.push(
        new KubecontrolError(
          "SPEC_INVALID",
          `two apps ${c.what} "${value}": ${first.file} and ${loaded.file}`,
          {
            hint: c.hint,
            details: { files: [first.file, loaded.file], path: c.path },
          },
        ),
      );
    });
    if (!refused) unique.push(loaded);
  }
  return { apps: unique, errors };
}

/** Finds one app by name: `<dir>/<name>.ts` first (no need to load the rest), else every spec. */
export async function loadApp(dir: string, name: string, options: LoadOptions = {}): Promise<LoadedApp> {
  // Checked before it becomes a path: `plan ../../outside` must not load a file outside dir.
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name))
    throw new KubecontrolError(
      "USAGE",
      `expected an app's name (a DNS label such as "webapp"), found "${name}"`,
      {
        hint: "kubecontrol list shows the apps",
      },
    );
  const direct = path.join(dir, `${name}.ts`);
  if (existsSync(direct)) {
    const loaded = await loadSpecFile(direct, options);
    if (loaded.app.name === name) return loaded;
  }
  const { apps, errors } = await loadApps(dir, options);
  const found = apps.find((a) => a.app.name === name);
  if (found) return found;
  if (errors.length > 0) throw errors[0]!;
  throw new KubecontrolError("NOT_FOUND", `no app named "${name}" in ${dir}`, {
    hint: `known apps: ${apps.map((a) => a.app.name).join(", ") || "none"}; see \`kubecontrol list\``,
  });
}
