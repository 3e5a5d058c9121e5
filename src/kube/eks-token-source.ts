import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { type EksToken, presignEksToken } from "./eks-token.js";

/** Refresh this long before the API server would refuse the token (clock skew, slow calls). */
const REFRESH_MARGIN_MS = 2 * 60_000;

export interface EksTokenSourceOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  stsEndpoint?: string;
  now?: () => number;
}

/** Hands out an EKS token for one cluster, presigning a new one before the current one expires. */
export class EksTokenSource {
  private current: EksToken | undefined;
  private pending: Promise<EksToken> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: EksTokenSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A token valid for at least the refresh margin; concurrent callers share one presign. */
  async token(): Promise<string> {
    if (this.current && this.current.expiresAt.getTime() - this.now() > REFRESH_MARGIN_MS) {
      return this.current.token;
    }
    this.pending ??= this.presign().finally(() => {
      this.pending = undefined;
    });
    this.current = await this.pending;
    return this.current.token;
  }

  /** When the token in hand stops being accepted (undefined before the first one). */
  expiresAt(): Date | undefined {
    return this.current?.expiresAt;
  }

  private async presign(): Promise<EksToken> {
    const { credentials } = this.options;
    const resolved = typeof credentials === "function" ? await credentials() : credentials;
    return presignEksToken({
      clusterName: this.options.clusterName,
      region: this.options.region,
      credentials: resolved,
      ...(this.options.stsEndpoint ? { endpoint: this.options.stsEndpoint } : {}),
      now: new Date(this.now()),
    });
  }
}
