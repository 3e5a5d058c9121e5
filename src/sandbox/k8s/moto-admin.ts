import { KubecontrolError } from "../../errors.js";
import { type ClusterAccess, parseClusterAccess } from "./access-grants.js";

/** An EKS cluster as the sandbox's moto launcher lists it (GET /_sandbox/eks/clusters). */
export interface SandboxEksCluster {
  name: string;
  arn: string;
  status: string;
  version?: string;
  endpoint?: string | null;
  /** The endpoint published for it (DescribeCluster shows it only once ACTIVE); none for a cluster made anew. */
  publishedEndpoint?: string | null;
  certificateAuthority?: string | null;
}

export interface TargetHealthReport {
  targetGroupArn: string;
  targets: { id: string; port: number; state: string; reason?: string; description?: string }[];
}

/**
 * The admin calls of the sandbox's moto launcher (part 1's contract). They go to moto directly,
 * never through the recording proxy, so that the sandbox's own traffic is not counted as the engine's.
 */
export class MotoAdmin {
  constructor(
    readonly motoUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.motoUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new KubecontrolError("SANDBOX", `moto at ${this.motoUrl} did not answer ${method} ${path}`, {
        cause: err,
        retryable: true,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new KubecontrolError(
        "SANDBOX",
        `moto answered ${response.status} to ${method} ${path}: ${text.slice(0, 300)}`,
        {
          retryable: response.status >= 500,
        },
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Every EKS cluster moto holds, whoever created it. */
  async listClusters(): Promise<SandboxEksCluster[]> {
    const body = await this.call<unknown>("GET", "/_sandbox/eks/clusters");
    const list = Array.isArray(body) ? body : ((body as { clusters?: unknown[] })?.clusters ?? []);
    return list as SandboxEksCluster[];
  }

  /** Publishes a running control plane; moto then turns the cluster ACTIVE. */
  async publishControlPlane(name: string, endpoint: string, certificateAuthority: string): Promise<void> {
    await this.call("POST", `/_sandbox/eks/clusters/${encodeURIComponent(name)}/control-plane`, {
      endpoint,
      certificateAuthority,
    });
  }

  /** The cluster's access entries with their associated policies, and its creator. */
  async clusterAccess(name: string): Promise<ClusterAccess> {
    return parseClusterAccess(
      await this.call<unknown>("GET", `/_sandbox/eks/clusters/${encodeURIComponent(name)}/access`),
    );
  }

  /** Tells moto what DescribeTargetHealth is to say for a target group's targets. */
  async publishTargetHealth(report: TargetHealthReport): Promise<void> {
    await this.call("POST", "/_sandbox/elbv2/target-health", report);
  }

  /** Merges settings into the launcher's configuration (e.g. registryHost). */
  async setConfig(settings: Record<string, unknown>): Promise<void> {
    await this.call("POST", "/_sandbox/config", settings);
  }

  /** Whether the launcher answers its health call. */
  async healthy(): Promise<boolean> {
    try {
      await this.call("GET", "/_sandbox/health");
      return true;
    } catch {
      return false;
    }
  }
}
