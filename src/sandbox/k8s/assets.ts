import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { KubecontrolError } from "../../errors.js";

const run = promisify(execFile);

// src/sandbox/k8s and dist/sandbox/k8s sit at the same depth below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Absolute path of a file under the package's sandbox/ directory (scripts, stages, Go modules). */
export function sandboxAsset(relative: string): string {
  return `${PACKAGE_ROOT}sandbox/${relative}`;
}

/** The Kubernetes version the sandbox's binaries are pinned at, read from sandbox/k8s/go.mod. */
export function kubeVersion(): string {
  const goMod = readFileSync(sandboxAsset("k8s/go.mod"), "utf8");
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(goMod);
  if (!match?.[1])
    throw new KubecontrolError("INTERNAL", "sandbox/k8s/go.mod does not pin k8s.io/kubernetes");
  return match[1];
}

/**
 * Builds the control-plane binaries when missing (a no-op when cached) and returns their directory.
 * Slow only the first time on a machine: about five minutes from the Go module proxy.
 */
export async function ensureBinaries(options: { build?: boolean } = {}): Promise<string> {
  const script = sandboxAsset("build-k8s.sh");
  const args = options.build === false ? ["--print-dir"] : [];
  try {
    const { stdout } = await run(script, args, { maxBuffer: 1 << 20, timeout: 30 * 60_000 });
    const dir = stdout.trim().split("\n").pop();
    if (!dir) throw new Error("build-k8s.sh printed no directory");
    return dir;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    // The script exits 2 when Go is missing: the user installs it, nothing is broken.
    const code = (err as { code?: unknown }).code === 2 ? "PREREQUISITE_MISSING" : "SANDBOX";
    throw new KubecontrolError(
      code,
      `building the sandbox's Kubernetes binaries failed: ${lastLines(stderr)}`,
      {
        cause: err,
        hint: `run ${script} by hand to see the whole build log`,
      },
    );
  }
}

/** Whether the binaries sandbox/build-k8s.sh makes are all in `binDir` (then it builds nothing). */
export function binariesPresent(binDir: string): boolean {
  const names = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "etcd",
    "kwok",
    "kwokctl",
  ];
  return names.every((name) => existsSync(`${binDir}/${name}`));
}

/** The last few lines of a command's output, for error messages that stay readable. */
export function lastLines(text: string, count = 5): string {
  return text.trim().split("\n").slice(-count).join("\n");
}
