import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { KubecontrolError } from "../../errors.js";
import { adminKubeconfigPath } from "./control-plane.js";
import { readWatcherStatus } from "./watcher-status.js";

interface KubeconfigDoc {
  clusters?: { cluster: Record<string, string> }[];
  users?: { user: Record<string, string> }[];
}

async function inline(entry: Record<string, string>, fileKey: string, dataKey: string): Promise<void> {
  const file = entry[fileKey];
  if (!file) return;
  entry[dataKey] = (await readFile(file)).toString("base64");
  delete entry[fileKey];
}

/**
 * A self-contained admin kubeconfig (system:masters client certificate, files inlined) for the
 * sandbox control plane of an EKS cluster, for people; the engine uses the EKS token path instead.
 */
export async function adminKubeconfigFor(sandboxDir: string, cluster: string): Promise<string> {
  const k8sDir = `${sandboxDir}/k8s`;
  const file = adminKubeconfigPath(k8sDir, cluster);
  if (!existsSync(file)) {
    const status = await readWatcherStatus(k8sDir);
    const known = Object.keys(status?.controlPlanes ?? {});
    throw new KubecontrolError("NOT_FOUND", `the sandbox has no control plane for EKS cluster ${cluster}`, {
      hint:
        known.length > 0
          ? `control planes: ${known.join(", ")}`
          : "create the cluster first (aws eks create-cluster ...)",
    });
  }
  const doc = parse(await readFile(file, "utf8")) as KubeconfigDoc;
  for (const c of doc.clusters ?? [])
    await inline(c.cluster, "certificate-authority", "certificate-authority-data");
  for (const u of doc.users ?? []) {
    await inline(u.user, "client-certificate", "client-certificate-data");
    await inline(u.user, "client-key", "client-key-data");
  }
  const server = doc.clusters?.[0]?.cluster;
  const user = doc.users?.[0]?.user;
  if (!server || !user) throw new KubecontrolError("SANDBOX", `${file} is not a kubeconfig kwokctl wrote`);
  const name = `sandbox-${cluster}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: server }],
    users: [{ name: `${name}-admin`, user }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
    "current-context": name,
  });
}
