import type * as Sdk from "@aws-sdk/client-ecr";
import { KubecontrolError } from "../errors.js";
import type { AwsOptions } from "./client-config.js";
import { awsCall, hasCode, orAbsent } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The manifest types an image may be stored as: single images and multi-platform indexes. */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

/** The ECR calls kubecontrol makes for the app's repository. */
export class Ecr {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-ecr"),
      (m, c) => new m.ECRClient(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.ECRClient) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("ecr", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Sdk.ECRClient) => Promise<T>): Promise<T> {
    const { m, once } = await this.sdk();
    return awsCall("ecr", op, what, () => f(m, once));
  }

  /** Every repository of the account in this region (destroy's search for a former spec's). */
  repositories(): Promise<Sdk.Repository[]> {
    return this.run("DescribeRepositories", "repositories", (m, c) =>
      allPages(async (nextToken) => {
        const r = await c.send(new m.DescribeRepositoriesCommand({ nextToken }));
        return { items: r.repositories, next: r.nextToken };
      }),
    );
  }

  /** Every image id of a repository (ListImages, all pages), or undefined when the repository is gone. */
  private imageIds(repository: string, tagStatus: Sdk.TagStatus): Promise<Sdk.ImageIdentifier[] | undefined> {
    return orAbsent(
      () =>
        this.run("ListImages", `repository ${repository}`, (m, c) =>
          allPages(async (nextToken) => {
            const r = await c.send(
              new m.ListImagesCommand({ repositoryName: repository, nextToken, filter: { tagStatus } }),
            );
            return { items: r.imageIds, next: r.nextToken };
          }),
        ),
      "RepositoryNotFoundException",
    );
  }

  /** The tags of a repository's images, or undefined when the repository is gone. */
  async imageTags(repository: string): Promise<{ digest: string; tag: string }[] | undefined> {
    const ids = await this.imageIds(repository, "TAGGED");
    return ids?.flatMap((i) =>
      i.imageDigest && i.imageTag ? [{ digest: i.imageDigest, tag: i.imageTag }] : [],
    );
  }

  /**
   * Gives an image one more tag: its manifest put again under the tag, as ECR documents
   * (BatchGetImage, then PutImage). A tag it already has is left as it is.
   */
  async addImageTag(repository: string, digest: string, tag: string): Promise<void> {
    const what = `image ${repository}@${digest}`;
    const got = await this.run("BatchGetImage", what, async (m, c) => {
      return c.send(
        new m.BatchGetImageCommand({
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }],
          // As pushed: an index stays an index (ECR would otherwise convert or refuse it).
          acceptedMediaTypes: MANIFEST_TYPES,
        }),
      );
    });
    const image = got.images?.[0];
    if (!image?.imageManifest) {
      const failure = got.failures?.[0];
      if (failure && failure.failureCode !== "ImageNotFound")
        throw new KubecontrolError(
          "AWS",
          `ECR BatchGetImage for ${what} failed: ${failure.failureCode}: ${failure.failureReason}`,
        );
      throw new KubecontrolError("NOT_FOUND", `${what} is not in ECR`, {
        hint: "the image was removed from the repository; run the deployment again to build it",
      });
    }
    await this.run("PutImage", what, (m, c) =>
      c.send(
        new m.PutImageCommand({
          repositoryName: repository,
          imageManifest: image.imageManifest,
          ...(image.imageManifestMediaType ? { imageManifestMediaType: image.imageManifestMediaType } : {}),
          imageTag: tag,
          imageDigest: digest,
        }),
      ),
    ).catch((err: unknown) => {
      if (!hasCode(err, "ImageAlreadyExistsException")) throw err;
    });
  }

  /** Takes tags off their images (an image with no tag left is removed, as ECR does); a tag already gone is fine. */
  async removeImageTags(repository: string, tags: string[]): Promise<void> {
    if (!tags.length) return;
    const out = await this.run("BatchDeleteImage", `tags of ${repository}`, (m, c) =>
      c.send(
        new m.BatchDeleteImageCommand({
          repositoryName: repository,
          imageIds: tags.map((imageTag) => ({ imageTag })),
        }),
      ),
    );
    const failed = (out.failures ?? []).filter(
      (f) => f.failureCode !== "ImageNotFound" && f.failureCode !== "ImageTagDoesNotMatchDigest",
    );
    if (failed.length)
      throw new KubecontrolError(
        "AWS",
        `ECR could not remove ${failed.map((f) => `${f.imageId?.imageTag}: ${f.failureCode} ${f.failureReason ?? ""}`.trim()).join("; ")} from ${repository}`,
        { retryable: true },
      );
  }

  /** How many images a repository holds (undefined when it is gone). */
  async imageCount(repository: string): Promise<number | undefined> {
    const ids = await this.imageIds(repository, "ANY");
    return ids && new Set(ids.map((i) => i.imageDigest ?? i.imageTag)).size;
  }

  /** The repository, or undefined. */
  describeRepository(name: string): Promise<Sdk.Repository | undefined> {
    return orAbsent(
      () =>
        this.run("DescribeRepositories", `repository ${name}`, async (m, c) => {
          const r = await c.send(new m.DescribeRepositoriesCommand({ repositoryNames: [name] }));
          return r.repositories?.[0];
        }),
      "RepositoryNotFoundException",
    );
  }

  /** Creates a repository. */
  createRepository(input: Sdk.CreateRepositoryCommandInput): Promise<Sdk.Repository | undefined> {
    return this.runOnce("CreateRepository", `repository ${input.repositoryName}`, async (m, c) => {
      return (await c.send(new m.CreateRepositoryCommand(input))).repository;
    });
  }

  /** Deletes a repository with its images. */
  async deleteRepository(name: string): Promise<void> {
    await this.run("DeleteRepository", `repository ${name}`, (m, c) =>
      c.send(new m.DeleteRepositoryCommand({ repositoryName: name, force: true })),
    );
  }

  /** Sets scan on push. */
  async putScanOnPush(name: string, scanOnPush: boolean): Promise<void> {
    await this.run("PutImageScanningConfiguration", `repository ${name}`, (m, c) =>
      c.send(
        new m.PutImageScanningConfigurationCommand({
          repositoryName: name,
          imageScanningConfiguration: { scanOnPush },
        }),
      ),
    );
  }

  /** Sets tag mutability. */
  async putTagMutability(name: string, mutability: Sdk.ImageTagMutability): Promise<void> {
    await this.run("PutImageTagMutability", `repository ${name}`, (m, c) =>
      c.send(new m.PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: mutability })),
    );
  }

  /** The lifecycle policy text, or undefined when there is none. */
  getLifecyclePolicy(name: string): Promise<string | undefined> {
    return orAbsent(
      () =>
        this.run("GetLifecyclePolicy", `repository ${name}`, async (m, c) => {
          return (await c.send(new m.GetLifecyclePolicyCommand({ repositoryName: name })))
            .lifecyclePolicyText;
        }),
      "LifecyclePolicyNotFoundException",
    );
  }

  /** Sets the lifecycle policy. */
  async putLifecyclePolicy(name: string, text: string): Promise<void> {
    await this.run("PutLifecyclePolicy", `repository ${name}`, (m, c) =>
      c.send(new m.PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: text })),
    );
  }

  /** Tags of a repository. */
  async listTags(arn: string, what: string): Promise<Sdk.Tag[]> {
    return this.run("ListTagsForResource", what, async (m, c) => {
      return (await c.send(new m.ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? [];
    });
  }

  /** Adds tags to a repository. */
  async tagResource(arn: string, tags: Sdk.Tag[], what: string): Promise<void> {
    await this.run("TagResource", what, (m, c) =>
      c.send(new m.TagResourceCommand({ resourceArn: arn, tags })),
    );
  }
}
