/**
 * The kubelet's own rules for the labels it may put on its Node (`--node-labels`, the
 * NodeRestriction admission plugin): a label in the `kubernetes.io` or `k8s.io` namespaces (or a
 * subdomain of either) is refused, and the kubelet does not start, unless it is one of the
 * well-known labels the kubelet sets or lives under `kubelet.kubernetes.io` or
 * `node.kubernetes.io`. `node-role.kubernetes.io/worker` is the usual casualty.
 */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
]);
const KUBELET_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

const inNamespace = (namespace: string, parent: string) =>
  namespace === parent || namespace.endsWith(`.${parent}`);

/** Why the kubelet would refuse `key` as one of its node labels, or undefined when it accepts it. */
export function kubeletRefusesLabel(key: string): string | undefined {
  const slash = key.indexOf("/");
  if (slash < 0) return undefined;
  const namespace = key.slice(0, slash).toLowerCase();
  if (!inNamespace(namespace, "kubernetes.io") && !inNamespace(namespace, "k8s.io")) return undefined;
  if (KUBELET_LABELS.has(key) || KUBELET_NAMESPACES.some((n) => inNamespace(namespace, n))) return undefined;
  return `the kubelet refuses labels in the ${namespace} namespace other than ${KUBELET_NAMESPACES.map((n) => `${n}/*`).join(", ")} and the well-known ones it sets itself, and does not start`;
}
