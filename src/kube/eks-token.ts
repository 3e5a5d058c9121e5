import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SourceData } from "@smithy/types";
import { registerSecret } from "../io/redact.js";

/**
 * EKS bearer tokens in the aws-iam-authenticator format: `k8s-aws-v1.` + base64url (unpadded)
 * of a presigned STS GetCallerIdentity URL whose signature covers the `x-k8s-aws-id` header.
 * The API server's authenticator replays the URL against STS to learn who signed it.
 */

const PREFIX = "k8s-aws-v1.";
/** The URL itself is presigned for 60 s, as `aws eks get-token` does; EKS accepts it for 15 min. */
const URL_EXPIRES_SECONDS = 60;
/** `aws eks get-token` reports 14 minutes; client-go refreshes then. */
export const TOKEN_LIFETIME_MS = 14 * 60_000;

export interface EksToken {
  token: string;
  /** When the API server stops accepting it. */
  expiresAt: Date;
}

export interface PresignInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  /** The STS endpoint (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, else STS's regional endpoint). */
  endpoint?: string;
  now?: Date;
}

/** Presigns an EKS bearer token for one cluster. */
export async function presignEksToken(input: PresignInput): Promise<EksToken> {
  const endpoint = new URL(input.endpoint ?? stsEndpoint(input.region));
  const signer = new SignatureV4({
    service: "sts",
    region: input.region,
    credentials: input.credentials,
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const now = input.now ?? new Date();
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname || "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: endpoint.host, "x-k8s-aws-id": input.clusterName },
    },
    { expiresIn: URL_EXPIRES_SECONDS, signingDate: now },
  );
  const url = new URL(`${signed.protocol}//${endpoint.host}${signed.path}`);
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    url.searchParams.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const token = PREFIX + Buffer.from(url.toString(), "utf8").toString("base64url");
  registerSecret(token);
  return { token, expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS) };
}

/** Where STS is reached: the SDK's endpoint variables first, as the SDK and the AWS CLI read them. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com`;
}

/** The presigned URL inside a token (for checks and diagnostics; the URL is a credential). */
export function presignedUrlOf(token: string): URL {
  if (!token.startsWith(PREFIX)) throw new Error("not an EKS token");
  return new URL(Buffer.from(token.slice(PREFIX.length), "base64url").toString("utf8"));
}

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape SignatureV4 expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: Buffer | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.secret ? createHmac("sha256", this.secret) : createHash("sha256");
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret ? createHmac("sha256", this.secret) : createHash("sha256");
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
