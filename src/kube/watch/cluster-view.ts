import type { KubeClient, KubeResource } from "../client.js";
import { ListWatch } from "./list-watch.js";
import type { ClusterView } from "./verdict.js";

/** Which collections to watch in each namespace. */
export interface ViewNeeds {
  namespaces: string[];
  deployments: boolean;
  daemonSets: boolean;
  services: boolean;
}

const PATHS = {
  Deployment: (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  DaemonSet: (ns: string) => `/apis/apps/v1/namespaces/${ns}/daemonsets`,
  Service: (ns: string) => `/api/v1/namespaces/${ns}/services`,
  ReplicaSet: (ns: string) => `/apis/apps/v1/namespaces/${ns}/replicasets`,
  Pod: (ns: string) => `/api/v1/namespaces/${ns}/pods`,
  EndpointSlice: (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
};

/**
 * The watches a rollout needs, as one ClusterView: per namespace the workloads, their
 * ReplicaSets and pods, EndpointSlices for Services, and the nodes (for NotReady).
 */
export class WatchedCluster implements ClusterView {
  private readonly watches = new Map<string, ListWatch>();
  private nodes_: ListWatch | undefined;
  readonly synced: Promise<void>;

  constructor(client: KubeClient, needs: ViewNeeds, onChange: () => void) {
    const kinds: (keyof typeof PATHS)[] = ["Pod"];
    if (needs.deployments) kinds.push("Deployment", "ReplicaSet");
    if (needs.daemonSets) kinds.push("DaemonSet");
    if (needs.services) kinds.push("Service", "EndpointSlice");
    for (const ns of needs.namespaces) {
      for (const kind of kinds) {
        this.watches.set(`${kind}/${ns}`, new ListWatch(client, { path: PATHS[kind](ns), onChange }));
      }
    }
    const waits = [...this.watches.values()].map((w) => w.synced);
    if (needs.deployments || needs.daemonSets) {
      // Nodes are cluster-scoped: a namespace-scoped identity cannot list them, and need not.
      this.nodes_ = new ListWatch(client, { path: "/api/v1/nodes", onChange, onError: () => {} });
      waits.push(this.nodes_.synced.catch(() => {}));
    }
    this.synced = Promise.all(waits).then(() => {});
  }

  object(kind: string, namespace: string, name: string): KubeResource | undefined {
    return this.watches.get(`${kind}/${namespace}`)?.cache.get(`${namespace}/${name}`);
  }
  pods(namespace: string): KubeResource[] {
    return this.watches.get(`Pod/${namespace}`)?.items() ?? [];
  }
  replicaSets(namespace: string): KubeResource[] {
    return this.watches.get(`ReplicaSet/${namespace}`)?.items() ?? [];
  }
  endpointSlices(namespace: string, service: string): KubeResource[] {
    const all = this.watches.get(`EndpointSlice/${namespace}`)?.items() ?? [];
    return all.filter((s) => s.metadata?.labels?.["kubernetes.io/service-name"] === service);
  }
  node(name: string): KubeResource | undefined {
    return this.nodes_?.cache.get(`/${name}`);
  }
  nodes(): KubeResource[] {
    return this.nodes_?.items() ?? [];
  }
  now(): number {
    return Date.now();
  }

  /** Stops every watch. */
  stop(): void {
    for (const w of this.watches.values()) w.stop();
    this.nodes_?.stop();
  }
}
