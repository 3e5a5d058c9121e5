import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
