import { spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "./apps.js";

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/kubecontrol as a real process (the build is made by the global setup). */
export function kubecontrol(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const result = spawnSync(process.execPath, [path.join(repoRoot, "bin/kubecontrol"), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
