import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { adminKubeconfigFor } from "../../sandbox/k8s/admin-kubeconfig.js";
import { requireUp } from "../../sandbox/lifecycle.js";
import { ExitCode } from "../exit-codes.js";

/** `kubecontrol sandbox kubeconfig <cluster>`: prints (or writes) the cluster's admin kubeconfig. */
export async function sandboxKubeconfigCommand(cmd: Command, cluster: string): Promise<number> {
  const opts = cmd.opts<{ dir?: string; output?: string }>();
  const state = requireUp(opts.dir);
  const kubeconfig = await adminKubeconfigFor(state.dir, cluster);
  if (opts.output) {
    await writeFile(opts.output, kubeconfig, { mode: 0o600 });
    process.stderr.write(
      `wrote ${opts.output}; use it with: kubectl --kubeconfig ${opts.output} get nodes\n`,
    );
  } else {
    process.stdout.write(kubeconfig);
  }
  return ExitCode.OK;
}
