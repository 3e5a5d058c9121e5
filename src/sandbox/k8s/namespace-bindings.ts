import { KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import type { NamespaceBinding } from "./access-grants.js";
import { adminKubeconfigPath } from "./control-plane.js";
import { withTimeout } from "./with-timeout.js";

/**
 * Makes sure each namespace-scoped access policy's RoleBinding exists (EKS's authorizer needs no
 * objects; the sandbox expresses the same grant as RBAC). A namespace that does not exist yet is
 * skipped: the next token review (the API server caches verdicts for 5 s) binds it.
 */
export async function ensureNamespaceBindings(
  k8sDir: string,
  cluster: string,
  bindings: NamespaceBinding[],
): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfigPath(k8sDir, cluster));
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  for (const b of bindings) {
    const body = {
      metadata: { name: `sandbox-eks-${b.clusterRole}`, namespace: b.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: b.clusterRole },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: b.group }],
    };
    // 409: it exists already; 404: the namespace does not exist yet.
    await withTimeout(
      rbac.createNamespacedRoleBinding({ namespace: b.namespace, body }),
      3000,
      `cluster ${cluster}`,
    ).catch((err: { code?: number }) => {
      if (err.code !== 409 && err.code !== 404) throw err;
    });
  }
}
