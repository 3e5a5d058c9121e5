// Shared helpers for the benchmark scripts: run a command N times, report the median.
import { spawnSync } from "node:child_process";

/** Wall-clock milliseconds of one run of a command (fails loudly if the command fails). */
export function timeOnce(cmd, args, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Median of N timed runs, after `warmup` untimed ones. */
export function median(cmd, args, { runs = 21, warmup = 3, ...options } = {}) {
  for (let i = 0; i < warmup; i++) timeOnce(cmd, args, options);
  const times = Array.from({ length: runs }, () => timeOnce(cmd, args, options)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export const fmt = (ms) => `${ms.toFixed(1)} ms`;
