import type * as Acm from "@aws-sdk/client-acm";
import type * as Secrets from "@aws-sdk/client-secrets-manager";
import type * as Ssm from "@aws-sdk/client-ssm";
import type * as Sts from "@aws-sdk/client-sts";
import type { AwsOptions } from "./client-config.js";
import { awsCall, orAbsent } from "./errors.js";
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

/** Secrets Manager: existence only; values are never read. */
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
}
