import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { KubecontrolError } from "../../errors.js";
import { ensureBinaries, sandboxAsset } from "./assets.js";
import { adminKubeconfigPath } from "./control-plane.js";

const run = promisify(execFile);

/** The stages the sandbox ships for tests (sandbox/k8s/stages/test-<name>.yaml). */
export const BUILTIN_STAGES = [
  "pod-never-ready",
  "pod-crash-loop",
  "pod-image-pull-failure",
  "node-not-ready",
] as const;

/** The label that hands a pod or node to a test stage instead of the sandbox's default ones. */
export const STAGE_LABEL = "sandbox.kubecontrol.dev/stage";

/**
 * Loads KWOK Stage objects into one cluster's control plane (kwok watches them as CRDs, so they
 * apply at once). Each item is a built-in stage name or the path of a YAML file of
 * `kwok.x-k8s.io/v1alpha1` Stage documents; pods and nodes carrying STAGE_LABEL with the stage's
 * value then follow it. Loading the same stage again is a no-op (server-side apply).
 */
export async function loadStages(sandboxDir: string, cluster: string, stages: string[]): Promise<void> {
  const kubeconfig = adminKubeconfigPath(`${sandboxDir}/k8s`, cluster);
  if (!existsSync(kubeconfig)) {
    throw new KubecontrolError("NOT_FOUND", `the sandbox has no control plane for EKS cluster ${cluster}`);
  }
  const files = stages.map((s) =>
    (BUILTIN_STAGES as readonly string[]).includes(s) ? sandboxAsset(`k8s/stages/test-${s}.yaml`) : s,
  );
  for (const file of files) {
    if (!existsSync(file)) {
      throw new KubecontrolError("USAGE", `no stage file ${file}`, {
        hint: `built-in stages: ${BUILTIN_STAGES.join(", ")}`,
      });
    }
  }
  const binDir = await ensureBinaries({ build: false });
  const args = ["--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts"];
  for (const file of files) args.push("-f", file);
  try {
    await run(`${binDir}/kubectl`, args, { timeout: 60_000 });
  } catch (err) {
    throw new KubecontrolError(
      "SANDBOX",
      `loading stages into ${cluster} failed: ${(err as { stderr?: string }).stderr ?? err}`,
      {
        cause: err,
      },
    );
  }
}
