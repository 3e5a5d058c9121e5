import type { AwsOptions } from "../aws/client-config.js";
import { Eks } from "../aws/eks.js";
import { KubecontrolError } from "../errors.js";

/** What a kubeconfig needs of an EKS cluster. */
export interface ClusterEndpoint {
  name: string;
  endpoint: string;
  /** Base64 of the CA bundle's PEM, as EKS returns it. */
  certificateAuthority: string;
}

/** Reads an ACTIVE cluster's endpoint and CA through the narrow EKS client (retries, timeouts, coded errors). */
export async function describeClusterEndpoint(
  name: string,
  options: AwsOptions = {},
): Promise<ClusterEndpoint> {
  const cluster = await new Eks(options).describeCluster(name);
  if (!cluster) throw new KubecontrolError("NOT_FOUND", `EKS cluster ${name} does not exist`);
  if (!cluster.endpoint || !cluster.certificateAuthority?.data) {
    throw new KubecontrolError(
      "PRECONDITION",
      `EKS cluster ${name} is ${cluster.status ?? "in an unknown state"} and has no endpoint yet`,
      { retryable: true, hint: "wait until the cluster is ACTIVE, then try again" },
    );
  }
  return { name, endpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority.data };
}
