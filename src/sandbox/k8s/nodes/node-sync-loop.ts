import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { CoreV1Api } from "@kubernetes/client-node";
import { adminKubeconfigPath } from "../control-plane.js";
import type { WatcherStatus } from "../watcher-status.js";
import { withTimeout } from "../with-timeout.js";
import { type ClusterInstance, listClusterInstances } from "./aws-instances.js";
import { coreApiFor, syncClusterNodes } from "./sync-nodes.js";

export interface NodeSyncOptions {
  k8sDir: string;
  kubeVersion: string;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  /** The watcher's live status: nodes are only made in control planes that are ready. */
  status: WatcherStatus;
  log(event: string, fields: Record<string, unknown>): void;
}

/** Turns Auto Scaling Group instances into nodes of their clusters, one pass per call. */
export class NodeSync {
  private readonly userDataCache = new Map<string, string | undefined>();
  /** Instances whose kubelet refused its flags, logged once each. */
  private readonly refusedLogged = new Set<string>();
  private readonly apis = new Map<string, CoreV1Api>();

  constructor(private readonly options: NodeSyncOptions) {}

  /** One pass over every ready cluster; never throws (the error goes to the status). */
  async tick(): Promise<void> {
    const { status } = this.options;
    let instances: ClusterInstance[];
    try {
      instances = await listClusterInstances(this.options.autoscaling, this.options.ec2, this.userDataCache);
    } catch (err) {
      status.nodes = {
        ok: false,
        error: `reading Auto Scaling Groups from moto: ${String(err)}`,
        count: status.nodes?.count ?? 0,
      };
      return;
    }
    let count = 0;
    const errors: string[] = [];
    for (const [cluster, cp] of Object.entries(status.controlPlanes)) {
      if (cp.state !== "ready") {
        this.apis.delete(cluster);
        continue;
      }
      const mine = instances.filter((i) => i.cluster === cluster);
      count += mine.length;
      try {
        const changed = await withTimeout(
          syncClusterNodes(this.api(cluster), mine, this.options.kubeVersion),
          5000,
          `cluster ${cluster}`,
        );
        const { refused, ...synced } = changed;
        if (synced.created.length + synced.deleted.length > 0)
          this.options.log("nodes.synced", { cluster, ...synced });
        for (const why of refused)
          if (!this.refusedLogged.has(why)) {
            this.refusedLogged.add(why);
            this.options.log("nodes.refused", { cluster, instance: why });
          }
      } catch (err) {
        errors.push(`${cluster}: ${String(err)}`);
      }
    }
    status.nodes = errors.length > 0 ? { ok: false, error: errors.join("; "), count } : { ok: true, count };
  }

  private api(cluster: string): CoreV1Api {
    let api = this.apis.get(cluster);
    if (!api) {
      api = coreApiFor(adminKubeconfigPath(this.options.k8sDir, cluster));
      this.apis.set(cluster, api);
    }
    return api;
  }
}
