import { stringify } from "yaml";

/** What a node needs to join its cluster and register with its pool's labels and taints. */
export interface NodeJoin {
  clusterName: string;
  endpoint: string;
  certificateAuthority: string;
  serviceCidr: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

// Fixed, so that the same inputs give byte-identical user data and a re-run sees no change.
const BOUNDARY = "KUBECONTROL-NODECONFIG";

/**
 * AL2023 user data: a MIME multipart document whose application/node.eks.aws part is the
 * nodeadm NodeConfig, with the pool's labels and taints as kubelet flags (what the kubelet,
 * and the sandbox's node simulator, read). Returned base64-encoded as EC2 expects it.
 */
export function nodeUserData(j: NodeJoin): string {
  const flags: string[] = [];
  const labels = Object.entries(j.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  if (labels.length) flags.push(`--node-labels=${labels.map(([k, v]) => `${k}=${v}`).join(",")}`);
  if (j.taints.length)
    flags.push(
      `--register-with-taints=${j.taints.map((t) => `${t.key}${t.value === undefined ? "" : `=${t.value}`}:${t.effect}`).join(",")}`,
    );
  const nodeConfig = stringify({
    apiVersion: "node.eks.aws/v1alpha1",
    kind: "NodeConfig",
    spec: {
      cluster: {
        name: j.clusterName,
        apiServerEndpoint: j.endpoint,
        certificateAuthority: j.certificateAuthority,
        cidr: j.serviceCidr,
      },
      kubelet: { flags },
    },
  });
  const text = [
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    "",
    `--${BOUNDARY}`,
    "Content-Type: application/node.eks.aws",
    "",
    "---",
    nodeConfig,
    `--${BOUNDARY}--`,
    "",
  ].join("\n");
  return Buffer.from(text, "utf8").toString("base64");
}
