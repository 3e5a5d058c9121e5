import { readFileSync } from "node:fs";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";
import { KubecontrolError } from "../errors.js";
import { type KubeAccess, KubeClient } from "./client.js";
import { type ClusterEndpoint, describeClusterEndpoint } from "./describe-cluster.js";
import { stsEndpoint } from "./eks-token.js";
import { EksTokenSource } from "./eks-token-source.js";

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

/** A connection to one EKS cluster: its endpoint, CA and a token that refreshes itself, held in memory only. */
export interface ClusterAccess {
  cluster: ClusterEndpoint;
  region: string;
  kubeConfig: KubeAccess;
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
  // What KubeConfig.applyToHTTPSOptions would set for this cluster and a bearer token, without
  // @kubernetes/client-node (its generated API is most of a deployment's memory).
  const ca = Buffer.from(cluster.certificateAuthority, "base64");
  const kubeConfig: KubeAccess = {
    getCurrentCluster: () => ({ server: cluster.endpoint }),
    async applyToHTTPSOptions(opts) {
      opts.ca = ca;
      opts.headers = { ...opts.headers, Authorization: `Bearer ${await tokens.token()}` };
    },
  };
  return { cluster, region, kubeConfig, tokens };
}

/**
 * A client of an EKS cluster, the one way the engine connects: DescribeCluster (unless the
 * endpoint is known), an EKS token that refreshes itself, and the operator's request timeout.
 */
export async function connectCluster(
  options: ClusterAccessOptions & { requestTimeoutMs?: number | undefined },
): Promise<KubeClient> {
  const { requestTimeoutMs, ...access } = options;
  const { kubeConfig } = await clusterAccess(access);
  return new KubeClient(kubeConfig, requestTimeoutMs ? { requestTimeoutMs } : {});
}

/**
 * Access to a cluster through a kubeconfig file (the sandbox's admin kubeconfig, a user's own):
 * the server is read here, TLS material and credentials by @kubernetes/client-node's KubeConfig,
 * loaded at the first request.
 */
export function kubeConfigFromFile(file: string, context?: string): KubeAccess {
  const doc = (parse(readFileSync(file, "utf8")) ?? {}) as {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  };
  const current = context ?? doc["current-context"];
  const clusterName = doc.contexts?.find((c) => c.name === current)?.context?.cluster;
  const server = doc.clusters?.find((c) => c.name === clusterName)?.cluster?.server;
  if (!server)
    throw new KubecontrolError("KUBE", `${file}: context "${current ?? ""}" names no cluster with a server`, {
      hint: "pass a context of that kubeconfig, or fix its current-context",
    });
  let loaded: Promise<KubeConfig> | undefined;
  const kubeConfig = () =>
    (loaded ??= import("@kubernetes/client-node").then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      if (context) kc.setCurrentContext(context);
      return kc;
    }));
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (opts) => (await kubeConfig()).applyToHTTPSOptions(opts),
  };
}

function defaultCredentials(region: string): AwsCredentialIdentityProvider {
  // The STS client resolves the SDK's default chain once and caches (and refreshes) what it finds.
  const sts = new STSClient({ region });
  return () => sts.config.credentials();
}

/**
 * One connection for every step that talks to a cluster, made the first time one asks (once the
 * cluster can be reached) and made again after a failed attempt.
 */
export function connectOnce(connect: () => Promise<KubeClient>): () => Promise<KubeClient> {
  let connected: Promise<KubeClient> | undefined;
  return () => {
    connected ??= connect().catch((err: unknown) => {
      connected = undefined;
      throw err;
    });
    return connected;
  };
}
