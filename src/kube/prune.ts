import { APP_LABEL, type KubeObject } from "../plan/kubernetes.js";
import { FIELD_MANAGER } from "./apply.js";
import type { KubeClient, KubeResource } from "./client.js";

/**
 * Kinds prune may delete, in deletion order (services before the workloads behind them).
 * Namespaces are left out on purpose: deleting one deletes everything in it.
 */
export const PRUNE_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" },
  { apiVersion: "v1", kind: "ServiceAccount" },
];

/** Namespaces prune never touches, whatever labels an object there carries. */
const PROTECTED_NAMESPACES = new Set(["kube-system", "kube-public", "kube-node-lease", "default"]);

export interface PruneOptions {
  app: string;
  /** The plan's objects: everything else of the app's may go. */
  keep: readonly KubeObject[];
  dryRun?: boolean;
}

/** An object prune deleted (or, in a dry run, would delete). */
export interface PrunedObject {
  ref: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Deletes the app's objects that the plan no longer has: found by the app label, of an
 * allowlisted kind, written by kubecontrol's field manager (so an object someone else made and
 * labelled stays), and never in a system namespace.
 */
export async function pruneObjects(client: KubeClient, options: PruneOptions): Promise<PrunedObject[]> {
  const keep = new Set(options.keep.map((o) => keyOf(o.kind, o.metadata.namespace ?? "", o.metadata.name)));
  const pruned: PrunedObject[] = [];
  for (const { apiVersion, kind } of PRUNE_KINDS) {
    const path = await client.pathOf(apiVersion, kind);
    const list = await client.request<{ items: KubeResource[] }>("GET", path, {
      query: { labelSelector: `${APP_LABEL}=${options.app}` },
    });
    const doomed = list.items.filter((o) => {
      const ns = o.metadata?.namespace ?? "";
      return (
        !PROTECTED_NAMESPACES.has(ns) &&
        !keep.has(keyOf(kind, ns, o.metadata?.name ?? "")) &&
        (o.metadata?.managedFields ?? []).some((f) => f.manager === FIELD_MANAGER)
      );
    });
    // One at a time: prunes are rare and small, and a failure then stops before the next delete.
    for (const o of doomed) {
      const ns = o.metadata!.namespace!;
      const name = o.metadata!.name!;
      await client
        .request("DELETE", await client.pathOf(apiVersion, kind, ns, name), {
          query: { propagationPolicy: "Background", ...(options.dryRun ? { dryRun: "All" } : {}) },
        })
        .catch((err: { status?: number }) => {
          if (err.status !== 404) throw err;
        });
      pruned.push({ ref: `${kind.toLowerCase()}/${ns}/${name}`, kind, namespace: ns, name });
    }
  }
  return pruned;
}

function keyOf(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
