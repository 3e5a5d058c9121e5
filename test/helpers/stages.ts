import { existsSync } from "node:fs";
import path from "node:path";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { loadStages } from "../../src/sandbox/k8s/stages.js";

/**
 * Loads KWOK stages into a sandbox cluster's control plane as soon as it answers (a create or
 * update makes the cluster while this waits), before the pods that opt into them exist. Gives up
 * when `done()` says the run ended first. Returns how long it waited, in ms.
 */
export async function loadStagesWhenClusterExists(
  sandboxDir: string,
  cluster: string,
  stages: string[],
  done: () => boolean,
  timeoutMs = 150_000,
): Promise<number | undefined> {
  const kubeconfig = adminKubeconfigPath(path.join(sandboxDir, "k8s"), cluster);
  const t0 = Date.now();
  let lastError: unknown;
  while (!done() && Date.now() - t0 < timeoutMs) {
    if (existsSync(kubeconfig)) {
      try {
        await loadStages(sandboxDir, cluster, stages);
        return Date.now() - t0;
      } catch (err) {
        lastError = err; // the API server may not answer yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (done()) return undefined;
  throw new Error(`the stages ${stages.join(", ")} were never loaded into ${cluster}: ${String(lastError)}`);
}
