import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { presignEksToken } from "../../src/kube/eks-token.js";
import { sdkConfig, type TestSandbox, testAccessKeyId, uniqueName } from "../helpers/sandbox.js";

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** Polls `check` until it returns a value (test waits only: the sandbox offers no event to wait on). */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** An EKS cluster made through the SDK, as a test's own; `destroy` deletes it. */
export interface SdkCluster {
  name: string;
  credentials: Credentials;
  eks: EKSClient;
  /** Milliseconds from CreateCluster until DescribeCluster said ACTIVE. */
  activeAfterMs: number;
  destroy(): Promise<void>;
}

/** Creates an EKS cluster (its creator becomes admin) and waits until it is ACTIVE. */
export async function createEksCluster(sbx: TestSandbox, prefix: string): Promise<SdkCluster> {
  const accessKeyId = testAccessKeyId();
  const credentials = { accessKeyId, secretAccessKey: "sandbox" };
  const eks = new EKSClient(sdkConfig(sbx, accessKeyId));
  const name = uniqueName(prefix);
  const started = Date.now();
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: "arn:aws:iam::123456789012:role/kc-test-eks",
      version: "1.34",
      resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    }),
  );
  const destroy = async () => {
    await eks.send(new DeleteClusterCommand({ name })).catch(() => undefined);
    eks.destroy();
  };
  try {
    await waitFor(`cluster ${name} to be ACTIVE`, 60_000, async () => {
      const c = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      return c?.status === "ACTIVE";
    });
  } catch (err) {
    await destroy();
    throw err;
  }
  return { name, credentials, eks, activeAfterMs: Date.now() - started, destroy };
}

/** A kubeconfig built the way `aws eks update-kubeconfig` builds one, with a presigned EKS token. */
export async function eksKubeConfig(
  sbx: TestSandbox,
  cluster: string,
  credentials: Credentials,
): Promise<KubeConfig> {
  const eks = new EKSClient({ endpoint: sbx.endpoint, region: sbx.region, credentials });
  const c = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster;
  eks.destroy();
  const { token } = await presignEksToken({
    clusterName: cluster,
    region: sbx.region,
    credentials,
    endpoint: sbx.endpoint,
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster, server: c!.endpoint!, caData: c!.certificateAuthority!.data! }],
    users: [{ name: "eks", token }],
    contexts: [{ name: cluster, cluster, user: "eks" }],
    currentContext: cluster,
  });
  return kc;
}

/** The core API of a cluster, as the credentials' owner reaches it through EKS. */
export async function coreApi(
  sbx: TestSandbox,
  cluster: string,
  credentials: Credentials,
): Promise<CoreV1Api> {
  return (await eksKubeConfig(sbx, cluster, credentials)).makeApiClient(CoreV1Api);
}

/** The HTTP status a Kubernetes client error carries (401, 403, 404...). */
export function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}
