import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import type { ClusterInstance } from "./aws-instances.js";
import { INSTANCE_ANNOTATION, nodeFor } from "./node-object.js";

/** A Kubernetes client for one sandbox control plane, from its admin kubeconfig. */
export function coreApiFor(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

/**
 * Makes one cluster's sandbox nodes match its instances: a node for each live instance (created
 * as its kubelet would register it), and no node for an instance that is gone. Nodes the
 * sandbox did not make (no instance annotation) are left alone. Returns what changed, and the
 * instances whose kubelet would refuse its flags (they get no node).
 */
export async function syncClusterNodes(
  api: CoreV1Api,
  instances: ClusterInstance[],
  kubeVersion: string,
): Promise<{ created: string[]; deleted: string[]; refused: string[] }> {
  const existing = (await api.listNode()).items;
  const ours = new Map<string, V1Node>();
  for (const node of existing) {
    const id = node.metadata?.annotations?.[INSTANCE_ANNOTATION];
    if (id) ours.set(id, node);
  }
  const names = new Set(existing.map((n) => n.metadata?.name));
  const created: string[] = [];
  const deleted: string[] = [];
  const refused: string[] = [];
  for (const instance of instances) {
    if (ours.has(instance.instanceId) || names.has(instance.privateDnsName)) continue;
    // a kubelet that refuses its flags never starts, so it never registers (the instance runs on)
    if (instance.registration.refused) {
      refused.push(`${instance.instanceId}: ${instance.registration.refused}`);
      continue;
    }
    const body = nodeFor(instance, instance.registration, kubeVersion) as V1Node;
    await api.createNode({ body });
    created.push(instance.privateDnsName);
  }
  const live = new Set(instances.map((i) => i.instanceId));
  for (const [id, node] of ours) {
    if (live.has(id) || !node.metadata?.name) continue;
    await api.deleteNode({ name: node.metadata.name }).catch((err: { code?: number }) => {
      if (err.code !== 404) throw err;
    });
    deleted.push(node.metadata.name);
  }
  return { created, deleted, refused };
}
