import type { ECRClient } from "@aws-sdk/client-ecr";
import { type AwsOptions, instrument, sdkClientConfig } from "../aws/client-config.js";
import { KubecontrolError } from "../errors.js";
import { registerSecret } from "../io/redact.js";

/** The app's ECR repository as the builders need it. */
export interface ImageRepository {
  name: string;
  /** Where images are pushed: `<registry host>/<name>` (the sandbox's registry in the sandbox). */
  uri: string;
  /** The account that owns it (from its ARN). */
  accountId: string;
  region: string;
}

/** Credentials for the registry, fresh from GetAuthorizationToken. Never log them. */
export interface RegistryAuth {
  /** The registry's address as ECR names it (`https://host[:port]`). */
  endpoint: string;
  /** base64("AWS:<password>"), the form of a docker/containers auth file's `auth` field. */
  token: string;
}

/** Options for the SDK clients the image code makes: the same as every other AWS client's. */
export type AwsClientOptions = AwsOptions;

/** SDK client configuration for the image adapters: the shared one (timeouts that fail, no logger). */
export function imageSdkConfig(o: AwsClientOptions) {
  return sdkClientConfig({ maxAttempts: 6, ...o });
}

/**
 * The few ECR calls images need. Kept here until src/aws/ecr.ts offers them (DescribeImages and
 * GetAuthorizationToken are not there yet); then this becomes a thin wrapper over it.
 */
export class EcrImages {
  private constructor(
    private readonly client: ECRClient,
    private readonly sdk: typeof import("@aws-sdk/client-ecr"),
  ) {}

  /** Loads the SDK module on first use, so commands that never touch ECR do not pay for it. */
  static async create(options: AwsClientOptions): Promise<EcrImages> {
    const sdk = await import("@aws-sdk/client-ecr");
    const client = new sdk.ECRClient(imageSdkConfig(options));
    instrument(client as never);
    return new EcrImages(client, sdk);
  }

  /** The repository, or NOT_FOUND telling how it comes to exist. */
  async repository(name: string): Promise<ImageRepository> {
    try {
      const out = await this.client.send(
        new this.sdk.DescribeRepositoriesCommand({ repositoryNames: [name] }),
      );
      const repo = out.repositories?.[0];
      if (!repo?.repositoryUri || !repo.repositoryArn)
        throw new Error("DescribeRepositories answered no URI");
      const [, , , region = "", accountId = ""] = repo.repositoryArn.split(":");
      return { name, uri: repo.repositoryUri, accountId, region };
    } catch (err) {
      if (err instanceof this.sdk.RepositoryNotFoundException) {
        throw new KubecontrolError("NOT_FOUND", `ECR repository ${name} does not exist`, {
          hint: "create the app first (kubecontrol create <app>) or make the repository named in the spec's image.repository",
          cause: err,
        });
      }
      throw awsError("DescribeRepositories", `repository ${name}`, err);
    }
  }

  /** The digest of `<repository>:<tag>`, or undefined when ECR has no such image. */
  async imageDigest(repository: string, tag: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(
        new this.sdk.DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
      return out.imageDetails?.[0]?.imageDigest;
    } catch (err) {
      if (err instanceof this.sdk.ImageNotFoundException) return undefined;
      throw awsError("DescribeImages", `${repository}:${tag}`, err);
    }
  }

  /**
   * A fresh registry token. Not cached: the expiry ECR reports cannot be trusted everywhere
   * (moto's lies in 2015) and one call per push costs nothing next to a build.
   */
  async registryAuth(): Promise<RegistryAuth> {
    try {
      const out = await this.client.send(new this.sdk.GetAuthorizationTokenCommand({}));
      const data = out.authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint) throw new Error("no authorization data");
      registerSecret(data.authorizationToken);
      registerSecret(Buffer.from(data.authorizationToken, "base64").toString("utf8").replace(/^AWS:/, ""));
      return { endpoint: data.proxyEndpoint, token: data.authorizationToken };
    } catch (err) {
      // Only the error's name: its message or metadata could echo the response.
      throw new KubecontrolError("AWS", `ECR GetAuthorizationToken failed (${(err as Error).name})`, {
        retryable: true,
        hint: "check the credentials in use may call ecr:GetAuthorizationToken",
      });
    }
  }
}

function awsError(op: string, what: string, err: unknown): KubecontrolError {
  const e = err as Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  return new KubecontrolError("AWS", `ECR ${op} for ${what} failed: ${e.name}: ${e.message}`, {
    retryable: e.$retryable !== undefined || (e.$metadata?.httpStatusCode ?? 0) >= 500,
    cause: err,
  });
}
