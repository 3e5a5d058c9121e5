import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { KubecontrolError } from "../errors.js";
import { processCmdline } from "./processes.js";

/**
 * Runs `work` holding an exclusive lock file (O_EXCL, holding our pid), so two `sandbox up`
 * on one directory (two test runs, say) do not both start it. A lock whose pid is gone is stale.
 */
export async function withLock<T>(file: string, work: () => Promise<T>, waitMs = 180_000): Promise<T> {
  mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder: number;
      try {
        holder = Number(readFileSync(file, "utf8").trim());
      } catch {
        continue; // released between our attempt and this read: try again
      }
      // Stale when its holder is gone, or the pid now runs something that is not Node (reused).
      if (!holder || !processCmdline(holder)?.includes("node")) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new KubecontrolError(
          "LOCKED",
          `another kubecontrol (pid ${holder}) is starting or stopping this sandbox`,
          {
            hint: `wait for it, or remove ${file} if pid ${holder} is not kubecontrol`,
          },
        );
      }
      await delay(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(file, { force: true });
  }
}
