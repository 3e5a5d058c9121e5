import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { KubeConfig, type User } from "@kubernetes/client-node";
import { type ClusterEndpoint, describeClusterEndpoint } from "./describe-cluster.js";
import { stsEndpoint } from "./eks-token.js";
import { EksTokenSource } from "./eks-token-source.js";

type Authenticator = Parameters<KubeConfig["addAuthenticator"]>[0];

/** The kubeconfig user whose bearer token kubecontrol presigns in-process. */
const EKS_USER = "kubecontrol-eks";

export interface ClusterAccessOptions {
  clusterName: string;
  region: string;
  /** Defaults to the SDK's provider chain (env, profile, SSO, instance role). */
  credentials?: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** The AWS endpoint for EKS and STS (a sandbox); by default the SDK's own resolution. */
  awsEndpoint?: string;
  /** Overrides what DescribeCluster says (an already known endpoint). */
  endpoint?: ClusterEndpoint;
}

/** A connection to one EKS cluster: a KubeConfig whose token refreshes itself, held in memory only. */
export interface ClusterAccess {
  cluster: ClusterEndpoint;
  region: string;
  kubeConfig: KubeConfig;
  tokens: EksTokenSource;
}

/** Builds in-memory access to an EKS cluster from DescribeCluster and a presigned EKS token. */
export async function clusterAccess(options: ClusterAccessOptions): Promise<ClusterAccess> {
  const { clusterName, region } = options;
  const credentials = options.credentials ?? defaultCredentials(region);
  const aws = {
    region,
    credentials,
    ...(options.awsEndpoint ? { endpoint: options.awsEndpoint } : {}),
  };
  const cluster = options.endpoint ?? (await describeClusterEndpoint(clusterName, aws));
  const tokens = new EksTokenSource({
    clusterName,
    region,
    credentials,
    stsEndpoint: options.awsEndpoint ?? stsEndpoint(region),
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.addAuthenticator(eksAuthenticator(tokens));
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: clusterName,
        server: cluster.endpoint,
        caData: cluster.certificateAuthority,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: EKS_USER, authProvider: { name: EKS_USER, config: {} } }],
    contexts: [{ name: clusterName, cluster: clusterName, user: EKS_USER }],
    currentContext: clusterName,
  });
  return { cluster, region, kubeConfig, tokens };
}

/** Access to a cluster through a kubeconfig file (the sandbox's admin kubeconfig, a user's own). */
export function kubeConfigFromFile(file: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  return kc;
}

function defaultCredentials(region: string): AwsCredentialIdentityProvider {
  // The STS client resolves the SDK's default chain once and caches (and refreshes) what it finds.
  const sts = new STSClient({ region });
  return () => sts.config.credentials();
}

function eksAuthenticator(tokens: EksTokenSource): Authenticator {
  return {
    isAuthProvider: (user: User) => user.authProvider?.name === EKS_USER,
    async applyAuthentication(_user, opts) {
      const headers = (opts.headers ?? {}) as Record<string, string>;
      headers.Authorization = `Bearer ${await tokens.token()}`;
      opts.headers = headers;
    },
  };
}
