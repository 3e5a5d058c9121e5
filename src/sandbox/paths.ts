import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where one sandbox keeps its state, logs, pids, CA and seed. */
export interface SandboxPaths {
  dir: string;
  stateFile: string;
  seedFile: string;
  logDir: string;
  runDir: string;
  caFile: string;
  lockFile: string;
}

/** The sandbox directory: --dir, else $KUBECONTROL_SANDBOX, else ${XDG_STATE_HOME:-~/.local/state}/kubecontrol/sandbox. */
export function resolveSandboxDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (dir) return path.resolve(dir);
  if (env.KUBECONTROL_SANDBOX) return path.resolve(env.KUBECONTROL_SANDBOX);
  const stateHome = env.XDG_STATE_HOME || path.join(homedir(), ".local", "state");
  return path.join(stateHome, "kubecontrol", "sandbox");
}

/** The cache shared by all sandboxes (virtualenv, built binaries): ${XDG_CACHE_HOME:-~/.cache}/kubecontrol/sandbox. */
export function sandboxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECONTROL_SANDBOX_CACHE) return path.resolve(env.KUBECONTROL_SANDBOX_CACHE);
  const cacheHome = env.XDG_CACHE_HOME || path.join(homedir(), ".cache");
  return path.join(cacheHome, "kubecontrol", "sandbox");
}

/** The files of the sandbox in `dir`. */
export function sandboxPaths(dir: string): SandboxPaths {
  return {
    dir,
    stateFile: path.join(dir, "state.json"),
    seedFile: path.join(dir, "seed.json"),
    logDir: path.join(dir, "logs"),
    runDir: path.join(dir, "run"),
    caFile: path.join(dir, "ca", "ca.pem"),
    lockFile: path.join(dir, "run", "up.lock"),
  };
}

/** The package's root directory (holding sandbox/, src/ or dist/), from this module's location. */
export function packageRoot(): string {
  // src/sandbox/paths.ts and dist/sandbox/paths.js are both two levels below the root.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
}
