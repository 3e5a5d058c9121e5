import { CoreV1Api, DiscoveryV1Api, KubeConfig } from "@kubernetes/client-node";

/** One cluster's view that decides target health: node ports with Ready endpoints, Ready nodes. */
export interface ClusterServing {
  /** Node ports of Services that have at least one Ready endpoint. */
  readyNodePorts: Set<number>;
  /** Node ports of every NodePort/LoadBalancer Service. */
  nodePorts: Set<number>;
  /** providerIDs (aws:///zone/instance-id) of Ready nodes, by instance id. */
  readyInstances: Set<string>;
}

/** Reads what a cluster serves, through its admin kubeconfig. */
export async function readClusterServing(kubeconfigPath: string): Promise<ClusterServing> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const [services, slices, nodes] = await Promise.all([
    core.listServiceForAllNamespaces(),
    discovery.listEndpointSliceForAllNamespaces(),
    core.listNode(),
  ]);
  const readyServices = new Set<string>();
  for (const slice of slices.items) {
    const service = slice.metadata?.labels?.["kubernetes.io/service-name"];
    if (service && slice.endpoints?.some((e) => e.conditions?.ready === true)) {
      readyServices.add(`${slice.metadata?.namespace}/${service}`);
    }
  }
  const nodePorts = new Set<number>();
  const readyNodePorts = new Set<number>();
  for (const svc of services.items) {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    for (const port of svc.spec?.ports ?? []) {
      if (!port.nodePort) continue;
      nodePorts.add(port.nodePort);
      if (readyServices.has(key)) readyNodePorts.add(port.nodePort);
    }
  }
  const readyInstances = new Set<string>();
  for (const node of nodes.items) {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const id = node.spec?.providerID?.split("/").pop();
    if (ready && id) readyInstances.add(id);
  }
  return { readyNodePorts, nodePorts, readyInstances };
}

export interface TargetVerdict {
  state: "healthy" | "unhealthy";
  reason?: string;
  description?: string;
}

/**
 * What an ALB health check would find at (instance, port): healthy when the instance is a Ready
 * node of its cluster and a Service on that node port has Ready endpoints (kube-proxy forwards
 * from any node), unhealthy otherwise, with the reason AWS gives.
 */
export function judgeTarget(
  instanceId: string,
  port: number,
  serving: ClusterServing | undefined,
): TargetVerdict {
  if (!serving?.readyInstances.has(instanceId)) {
    return { state: "unhealthy", reason: "Target.Timeout", description: "Request timed out" };
  }
  if (!serving.readyNodePorts.has(port)) {
    return serving.nodePorts.has(port)
      ? {
          state: "unhealthy",
          reason: "Target.ResponseCodeMismatch",
          description: "Health checks failed with these codes: [503]",
        }
      : { state: "unhealthy", reason: "Target.FailedHealthChecks", description: "Health checks failed" };
  }
  return { state: "healthy" };
}
