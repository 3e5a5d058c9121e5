import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Specs are code: they run with the deployer's rights when they are loaded. They are loaded in a
 * worker thread with a time limit, so a spec that calls `process.exit` ends only its worker (and
 * is reported), and one that loops forever is stopped and reported, instead of ending or hanging
 * the command (cron's `update` included). What crosses back is the default export as plain data.
 */

/** What loading one spec file gave: its default export, or why there is none. */
export type Imported =
  | { file: string; ok: true; value: unknown }
  | { file: string; ok: false; reason: "failed" | "exited" | "timeout" | "not-data"; message: string };

/** How long one spec may take to load, by default (KUBECONTROL_SPEC_TIMEOUT overrides, in seconds). */
export const SPEC_TIMEOUT_MS = 10_000;

// The worker, as source (CommonJS in an eval'd worker, so it needs no file of its own). It loads
// each file it is sent with jiti and answers with the default export, or why it could not.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
let jiti;
parentPort.on("message", async ({ id, file }) => {
  try {
    if (!jiti) {
      const { createJiti } = await import(pathToFileURL(workerData.jiti).href);
      jiti = createJiti(workerData.base, {
        alias: { kubecontrol: workerData.entry },
        fsCache: workerData.cacheDir || false,
        moduleCache: false,
        interopDefault: false,
      });
    }
    const mod = await jiti.import(file);
    const value = mod ? mod.default : undefined;
    try {
      parentPort.postMessage({ id, ok: true, value });
    } catch (err) {
      parentPort.postMessage({ id, ok: false, reason: "not-data", message: String(err && err.message) });
    }
  } catch (err) {
    parentPort.postMessage({ id, ok: false, reason: "failed", message: String((err && err.message) || err) });
  }
});
`;

/** This package's entry, so `import ... from "kubecontrol"` works from any apps directory. */
export function packageEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const built = path.resolve(here, "../index.js");
  return existsSync(built) ? built : path.resolve(here, "../index.ts");
}

/** Where transpiled specs are cached between runs, or false when the cache is off. */
export function specCacheDir(cache: boolean): string | false {
  if (!cache || process.env.KUBECONTROL_SPEC_CACHE === "0") return false;
  const root = process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache");
  return path.join(root, "kubecontrol", "specs");
}

function timeoutMs(): number {
  const seconds = Number(process.env.KUBECONTROL_SPEC_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : SPEC_TIMEOUT_MS;
}

/**
 * Imports spec files in a worker, one after another, each within the time limit. A file that
 * exits the worker or runs out of time is reported as such, and a fresh worker goes on with the
 * rest. Never throws for a spec's own failure.
 */
export async function importSpecs(files: readonly string[], o: { cache: boolean }): Promise<Imported[]> {
  const results: Imported[] = [];
  const limit = timeoutMs();
  const data = {
    jiti: createRequire(import.meta.url).resolve("jiti"),
    base: import.meta.url,
    entry: packageEntry(),
    cacheDir: specCacheDir(o.cache),
  };
  let worker: Worker | undefined;
  try {
    for (const [id, file] of files.entries()) {
      if (!worker) {
        // What a spec prints is not the command's output (--json must stay parseable): dropped.
        worker = new Worker(WORKER, { eval: true, workerData: data, stdout: true, stderr: true });
        worker.stdout.resume();
        worker.stderr.resume();
      }
      const w = worker;
      let crashed = false;
      const result = await new Promise<Imported>((resolve) => {
        const done = (r: Imported) => {
          clearTimeout(timer);
          w.off("message", onMessage);
          w.off("exit", onExit);
          w.off("error", onError);
          resolve(r);
        };
        const onMessage = (m: {
          id: number;
          ok: boolean;
          value?: unknown;
          reason?: string;
          message?: string;
        }) => {
          if (m.id !== id) return;
          done(
            m.ok
              ? { file, ok: true, value: m.value }
              : { file, ok: false, reason: m.reason as "failed" | "not-data", message: m.message ?? "" },
          );
        };
        const onExit = (code: number) =>
          done({
            file,
            ok: false,
            reason: "exited",
            message: `it called process.exit(${code}) while loading`,
          });
        const onError = (err: Error) => {
          crashed = true;
          done({ file, ok: false, reason: "failed", message: err.message });
        };
        const timer = setTimeout(
          () =>
            done({
              file,
              ok: false,
              reason: "timeout",
              message: `it did not finish loading within ${limit / 1000}s (a loop, or a wait that never ends?)`,
            }),
          limit,
        );
        w.on("message", onMessage);
        w.once("exit", onExit);
        w.once("error", onError);
        w.postMessage({ id, file });
      });
      results.push(result);
      if (crashed || (!result.ok && (result.reason === "exited" || result.reason === "timeout"))) {
        // Whatever the spec left running goes with its worker.
        await worker.terminate().catch(() => {});
        worker = undefined;
      }
    }
  } finally {
    await worker?.terminate().catch(() => {});
  }
  return results;
}
