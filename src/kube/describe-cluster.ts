import { DescribeClusterCommand, EKSClient, type EKSClientConfig } from "@aws-sdk/client-eks";
import { KubecontrolError } from "../errors.js";

/** What a kubeconfig needs of an EKS cluster. */
export interface ClusterEndpoint {
  name: string;
  endpoint: string;
  /** Base64 of the CA bundle's PEM, as EKS returns it. */
  certificateAuthority: string;
}

/**
 * Reads an ACTIVE cluster's endpoint and CA from EKS.
 * A small adapter over the SDK until src/aws offers its narrow EKS client; then it should call that.
 */
export async function describeClusterEndpoint(
  name: string,
  config: EKSClientConfig = {},
): Promise<ClusterEndpoint> {
  const eks = new EKSClient(config);
  try {
    const out = await eks.send(new DescribeClusterCommand({ name }));
    const cluster = out.cluster;
    if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
      throw new KubecontrolError(
        "PRECONDITION",
        `EKS cluster ${name} is ${cluster?.status ?? "in an unknown state"} and has no endpoint yet`,
        { retryable: true, hint: "wait until the cluster is ACTIVE, then try again" },
      );
    }
    return { name, endpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority.data };
  } catch (err) {
    if (err instanceof KubecontrolError) throw err;
    const errorName = (err as { name?: string }).name;
    if (errorName === "ResourceNotFoundException") {
      throw new KubecontrolError("NOT_FOUND", `EKS cluster ${name} does not exist`, { cause: err });
    }
    throw new KubecontrolError("AWS", `DescribeCluster ${name} failed: ${(err as Error).message}`, {
      cause: err,
      retryable: true,
    });
  } finally {
    eks.destroy();
  }
}
