import {
  DescribeRepositoriesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  PutImageCommand,
  RepositoryNotFoundException,
} from "@aws-sdk/client-ecr";

/** What the registry proxy asks of ECR (moto): who may push, which repositories exist, and the mirror. */
export class EcrMirror {
  private password: { value: string; until: number } | undefined;
  private readonly known = new Map<string, number>();

  constructor(private readonly ecr: ECRClient) {}

  /** True when `authorization` is Basic AWS:<password of ECR's current authorization token>. */
  async authorized(authorization: string | undefined): Promise<boolean> {
    const m = /^Basic\s+(\S+)$/i.exec(authorization ?? "");
    if (!m) return false;
    const [user, ...rest] = Buffer.from(m[1]!, "base64").toString("utf8").split(":");
    if (user !== "AWS") return false;
    if (rest.join(":") === (await this.currentPassword())) return true;
    // ECR's password changes when moto restarts: look again before refusing.
    this.password = undefined;
    return rest.join(":") === (await this.currentPassword());
  }

  private async currentPassword(): Promise<string> {
    if (this.password && this.password.until > Date.now()) return this.password.value;
    const out = await this.ecr.send(new GetAuthorizationTokenCommand({}));
    const token = out.authorizationData?.[0]?.authorizationToken ?? "";
    const value = Buffer.from(token, "base64").toString("utf8").split(":").slice(1).join(":");
    this.password = { value, until: Date.now() + 60_000 };
    return value;
  }

  /** Whether ECR has the repository (a push to a missing one fails on AWS: NAME_UNKNOWN). */
  async repositoryExists(name: string): Promise<boolean> {
    if ((this.known.get(name) ?? 0) > Date.now()) return true;
    try {
      await this.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
      this.known.set(name, Date.now() + 5000);
      return true;
    } catch (err) {
      if (err instanceof RepositoryNotFoundException) return false;
      throw err;
    }
  }

  /** Records a pushed manifest in ECR with the registry's digest, so DescribeImages shows it at once. */
  async putImage(
    repository: string,
    reference: string,
    manifest: string,
    mediaType: string,
    digest: string,
  ): Promise<void> {
    const isDigest = reference.startsWith("sha256:");
    try {
      await this.ecr.send(
        new PutImageCommand({
          repositoryName: repository,
          imageManifest: manifest,
          imageManifestMediaType: mediaType,
          imageDigest: digest,
          ...(isDigest ? {} : { imageTag: reference }),
        }),
      );
    } catch (err) {
      // A re-push of the same manifest and tag is a no-op on AWS too.
      if (!(err instanceof ImageAlreadyExistsException)) throw err;
    }
  }
}
