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

  /** The ARN of an issued certificate for exactly this domain, or undefined. */
  async certificateFor(domain: string): Promise<string | undefined> {
    const { m, client } = await this.sdk();
    const all = await awsCall("acm", "ListCertificates", `certificate for ${domain}`, () =>
      allPages(async (NextToken) => {
        const r = await client.send(
          new m.ListCertificatesCommand({ CertificateStatuses: ["ISSUED"], NextToken }),
        );
        return { items: r.CertificateSummaryList, next: r.NextToken };
      }),
    );
    return all.find((c) => c.DomainName === domain)?.CertificateArn;
  }
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
