import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ComponentContext } from "./components.js";
import { startProcess } from "./processes.js";
import type { ComponentRecord } from "./state.js";

/**
 * How to run one of kubecontrol's own TypeScript entry points as a separate Node process: the
 * built .js under dist/ when this runs from dist/, else the .ts source through jiti (tests run
 * from src/). `relative` is from src/sandbox (or dist/sandbox), without extension: "proxy/main".
 * Start it with the package root as cwd, so `jiti/register` resolves.
 */
export function nodeEntry(relative: string): { command: string; args: string[] } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, `${relative}.js`);
  if (existsSync(js)) return { command: process.execPath, args: [js] };
  return {
    command: process.execPath,
    args: ["--import", "jiti/register", path.join(here, `${relative}.ts`)],
  };
}

/** The source directory of an entry point, for a component's `sources` (a change restarts it). */
export function entryDir(relative: string): string {
  return path.dirname(nodeEntry(relative).args.at(-1)!);
}

/**
 * Starts one of kubecontrol's own entry points as a sandbox component: logs, pid and the port
 * file it writes go under the sandbox directory, `--port-file` is passed for it, and `args`
 * follow the entry.
 */
export async function startNodeComponent(
  ctx: ComponentContext,
  name: string,
  entry: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<ComponentRecord> {
  const portFile = path.join(ctx.paths.runDir, `${name}.port`);
  const { command, args: entryArgs } = nodeEntry(entry);
  return startProcess({
    name,
    command,
    args: [...entryArgs, ...args, "--port-file", portFile],
    ...(env ? { env } : {}),
    cwd: ctx.root,
    logDir: ctx.paths.logDir,
    runDir: ctx.paths.runDir,
    marker: ctx.paths.dir,
    portFile,
  });
}
