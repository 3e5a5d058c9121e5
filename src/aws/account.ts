import type * as Acm from "@aws-sdk/client-acm";
import type * as Secrets from "@aws-sdk/client-secrets-manager";
import type * as Ssm from "@aws-sdk/client-ssm";
import type * as Sts from "@aws-sdk/client-sts";
import type { AwsOptions } from "./client-config.js";
import { awsCall, awsErrorMessage, hasCode, orAbsent } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

/** STS: who the credentials are. */
export class StsApi {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-sts"),
      (m: typeof Sts, c) => new m.STSClient(c),
      options,
    );
  }

  /** The caller's account and ARN. */
  async callerIdentity(): Promise<{ account: string; arn: string }> {
    const { m, client } = await this.sdk();
    const r = await awsCall("sts", "GetCallerIdentity", "the credentials", () =>
      client.send(new m.GetCallerIdentityCommand({})),
    );
    return { account: r.Account!, arn: r.Arn! };
  }
}

/** SSM: the EKS-optimized AMI parameters. */
export class SsmApi {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-ssm"),
      (m: typeof Ssm, c) => new m.SSMClient(c),
      options,
    );
  }

  /** A parameter's value, or undefined when there is no such parameter. */
  async parameter(name: string): Promise<string | undefined> {
    const { m, client } = await this.sdk();
    return orAbsent(
      () =>
        awsCall("ssm", "GetParameter", `parameter ${name}`, async () => {
          return (await client.send(new m.GetParameterCommand({ Name: name }))).Parameter?.Value;
        }),
      "ParameterNotFound",
    );
  }
}

/** ACM: certificates by domain. */
export class AcmApi {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-acm"),
      (m: typeof Acm, c) => new m.ACMClient(c),
      options,
    );
  }

  /**
   * The ARN of the certificate a listener for `domain` should serve, or undefined: of the
   * issued, unexpired certificates of every key type whose name or alternative names cover the
   * domain as TLS does (exactly, or by a wildcard for one label), the one that expires last.
   * ListCertificates returns only RSA-1024 and RSA-2048 certificates unless asked for the other
   * key types; a summary without its alternative names (or with more than it lists) is
   * described.
   */
  async certificateFor(domain: string, now: Date = new Date()): Promise<string | undefined> {
    const { m, client } = await this.sdk();
    const what = `certificate for ${domain}`;
    const all = await awsCall("acm", "ListCertificates", what, () =>
      allPages(async (NextToken) => {
        const r = await client.send(
          new m.ListCertificatesCommand({
            CertificateStatuses: ["ISSUED"],
            Includes: { keyTypes: [...ACM_KEY_TYPES] },
            NextToken,
          }),
        );
        return { items: r.CertificateSummaryList, next: r.NextToken };
      }),
    );
    const candidates: { arn: string; notAfter: number }[] = [];
    const covers = (names: (string | undefined)[]) => names.some((n) => n && coversName(n, domain));
    for (const c of all) {
      if (!c.CertificateArn) continue;
      let names = [c.DomainName, ...(c.SubjectAlternativeNameSummaries ?? [])];
      const complete =
        c.SubjectAlternativeNameSummaries !== undefined && !c.HasAdditionalSubjectAlternativeNames;
      if (complete && !covers(names)) continue;
      let { NotAfter: notAfter, Status: status = "ISSUED" } = c;
      if (!complete || !notAfter) {
        const d = await awsCall(
          "acm",
          "DescribeCertificate",
          what,
          async () =>
            (await client.send(new m.DescribeCertificateCommand({ CertificateArn: c.CertificateArn })))
              .Certificate,
        );
        names = [d?.DomainName, ...(d?.SubjectAlternativeNames ?? [])];
        notAfter = d?.NotAfter ?? notAfter;
        status = d?.Status ?? status;
      }
      if (status !== "ISSUED" || !covers(names)) continue;
      if (notAfter && notAfter.getTime() <= now.getTime()) continue;
      candidates.push({ arn: c.CertificateArn, notAfter: notAfter?.getTime() ?? 0 });
    }
    candidates.sort((a, b) => b.notAfter - a.notAfter);
    return candidates[0]?.arn;
  }
}

/** Every key type ACM issues or imports (ListCertificates' default filter is RSA-1024 and RSA-2048 only). */
export const ACM_KEY_TYPES = [
  "RSA_1024",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "EC_prime256v1",
  "EC_secp384r1",
  "EC_secp521r1",
] as const;

/**
 * Whether a certificate name covers a host name as TLS checks it (RFC 6125): equal ignoring
 * case, or a wildcard `*.` name standing for exactly one leftmost label (`*.example.com` covers
 * `www.example.com`, not `example.com` nor `a.b.example.com`).
 */
export function coversName(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (!p.startsWith("*.")) return p === h;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

/**
 * A secret's value as envFromSecrets reads it: the JSON object's values by key (strings as they
 * are, other JSON values as JSON), or why it is not a JSON object. Nothing here may reach a
 * message: only key names and the reason do.
 */
export type SecretJson =
  | { kind: "object"; values: Record<string, string | null> }
  | { kind: "not-an-object"; why: string };

/** Secrets Manager: existence (DescribeSecret) and, for envFromSecrets, the JSON value. */
export class SecretsApi {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-secrets-manager"),
      (m: typeof Secrets, c) => new m.SecretsManagerClient(c),
      options,
    );
  }

  /** Whether a secret of this name exists (DescribeSecret reads metadata, not the value). */
  async exists(name: string): Promise<boolean> {
    const { m, client } = await this.sdk();
    const found = await orAbsent(
      () =>
        awsCall("secretsmanager", "DescribeSecret", `secret ${name}`, () =>
          client.send(new m.DescribeSecretCommand({ SecretId: name })),
        ),
      "ResourceNotFoundException",
    );
    return found !== undefined && found.DeletedDate === undefined;
  }

  /**
   * The secret's current value as a JSON object (GetSecretValue), or undefined when there is no
   * such secret or it is scheduled for deletion. A parse error's text is never kept: it quotes
   * the value.
   */
  async jsonObject(name: string): Promise<SecretJson | undefined> {
    const { m, client } = await this.sdk();
    let r: Secrets.GetSecretValueResponse | undefined;
    try {
      r = await awsCall("secretsmanager", "GetSecretValue", `secret ${name}`, () =>
        client.send(new m.GetSecretValueCommand({ SecretId: name })),
      );
    } catch (err) {
      if (hasCode(err, "ResourceNotFoundException")) return undefined;
      // A secret scheduled for deletion cannot be read: for envFromSecrets it is gone.
      if (hasCode(err, "InvalidRequestException") && /deletion|deleted/i.test(awsErrorMessage(err)))
        return undefined;
      throw err;
    }
    if (r.SecretString === undefined)
      return { kind: "not-an-object", why: "it holds a binary value (SecretBinary)" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.SecretString);
    } catch {
      return { kind: "not-an-object", why: "its value is not JSON" };
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      return {
        kind: "not-an-object",
        why: `its value is a JSON ${Array.isArray(parsed) ? "array" : parsed === null ? "null" : typeof parsed}`,
      };
    const values: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>))
      values[key] = value === null ? null : typeof value === "string" ? value : JSON.stringify(value);
    return { kind: "object", values };
  }
}
