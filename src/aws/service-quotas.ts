import { createHash, createHmac } from "node:crypto";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from "@smithy/types";
import type { AwsOptions } from "./client-config.js";
import { awsCall, hasCode } from "./errors.js";

/** A quota's value as Service Quotas gives it. */
export interface Quota {
  serviceCode: string;
  quotaCode: string;
  name: string;
  value: number;
  /** True when the account's applied value was read; false for AWS's default (never raised). */
  applied: boolean;
}

const TARGET = "ServiceQuotasV20190624";
const RETRYABLE = new Set(["ThrottlingException", "TooManyRequestsException", "ServiceException"]);

/**
 * Service Quotas (awsJson1_1), the two read calls preflight makes. Signed here with SigV4
 * rather than through @aws-sdk/client-service-quotas, which is not among the dependencies: the
 * same endpoint (AWS_ENDPOINT_URL_SERVICE_QUOTAS, AWS_ENDPOINT_URL), credential chain and region
 * as the SDK clients, throttling and 5xx retried with backoff.
 */
export class ServiceQuotas {
  private resolved: Promise<{ region: string; credentials: AwsCredentialIdentityProvider }> | undefined;
  constructor(private readonly options: AwsOptions) {}

  /** The applied value of a quota, or AWS's default when it was never raised (NoSuchResourceException). */
  async quota(serviceCode: string, quotaCode: string): Promise<Quota> {
    const what = `quota ${serviceCode}/${quotaCode}`;
    const ask = (op: string) =>
      awsCall("servicequotas", op, what, () =>
        this.call<{ Quota: { QuotaName?: string; Value?: number } }>(op, {
          ServiceCode: serviceCode,
          QuotaCode: quotaCode,
        }),
      );
    let applied = true;
    const r = await ask("GetServiceQuota").catch(async (err) => {
      if (!hasCode(err, "NoSuchResourceException")) throw err;
      applied = false;
      return ask("GetAWSDefaultServiceQuota");
    });
    return {
      serviceCode,
      quotaCode,
      name: r.Quota.QuotaName ?? quotaCode,
      value: r.Quota.Value ?? 0,
      applied,
    };
  }

  private async call<T>(operation: string, body: object): Promise<T> {
    this.resolved ??= this.resolve();
    const { region, credentials } = await this.resolved;
    const url = new URL(
      this.options.endpoint ??
        process.env.AWS_ENDPOINT_URL_SERVICE_QUOTAS ??
        process.env.AWS_ENDPOINT_URL ??
        `https://servicequotas.${region}.amazonaws.com`,
    );
    const payload = JSON.stringify(body);
    const maxAttempts = this.options.maxAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      const headers = await sign(
        {
          host: url.host,
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `${TARGET}.${operation}`,
          "amz-sdk-request": `attempt=${attempt}; max=${maxAttempts}`,
        },
        payload,
        { region, credentials: await credentials(), path: url.pathname || "/" },
      );
      let err: Error & { $metadata?: { httpStatusCode?: number } };
      try {
        const res = await fetch(url, {
          method: "POST",
          headers,
          body: payload,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
        });
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as T;
        const parsed = (() => {
          try {
            return JSON.parse(text) as { __type?: string; message?: string; Message?: string };
          } catch {
            return {};
          }
        })();
        err = new Error(parsed.message ?? parsed.Message ?? `HTTP ${res.status}`);
        err.name = (parsed.__type ?? `Http${res.status}`).split("#").pop()!;
        err.$metadata = { httpStatusCode: res.status };
        if (res.status < 500 && !RETRYABLE.has(err.name)) throw err;
      } catch (e) {
        if ((e as { $metadata?: unknown }).$metadata) throw e;
        err = e as Error; // no answer (refused, reset, timed out): retried like the SDK does
      }
      if (attempt >= maxAttempts) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(20_000, 100 * 2 ** attempt)));
    }
  }

  private async resolve() {
    const { STSClient } = await import("@aws-sdk/client-sts");
    // The STS client resolves the SDK's region and default credential chain (and refreshes them).
    const sts = new STSClient({
      ...(this.options.region ? { region: this.options.region } : {}),
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
    });
    return { region: await sts.config.region(), credentials: () => sts.config.credentials() };
  }
}

/** SigV4 headers for a POST to `/` of the servicequotas endpoint. */
async function sign(
  headers: Record<string, string>,
  payload: string,
  o: { region: string; credentials: AwsCredentialIdentity; path: string },
): Promise<Record<string, string>> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const signer = new SignatureV4({
    service: "servicequotas",
    region: o.region,
    credentials: o.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: "https:",
    hostname: headers.host!,
    path: o.path,
    headers,
    body: payload,
  });
  return signed.headers as Record<string, string>;
}

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape SignatureV4 expects. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
