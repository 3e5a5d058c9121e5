import type { EcrImages, ImageRepository } from "./ecr-images.js";

/** An image in the registry: the tag is the code version, the digest pins its content. */
export interface ImageRef {
  repositoryUri: string;
  tag: string;
  digest: string;
  /** `<repositoryUri>:<tag>@<digest>`: what pods run, so a moved tag cannot change it. */
  reference: string;
}

/** The reference pods are given: by tag for people, by digest for the runtime. */
export function imageReference(repositoryUri: string, tag: string, digest: string): string {
  return `${repositoryUri}:${tag}@${digest}`;
}

/** Looks `<repository>:<tag>` up in ECR (DescribeImages); undefined when it is not there. */
export async function findImage(
  ecr: EcrImages,
  repository: ImageRepository,
  tag: string,
): Promise<ImageRef | undefined> {
  const digest = await ecr.imageDigest(repository.name, tag);
  if (!digest) return undefined;
  return {
    repositoryUri: repository.uri,
    tag,
    digest,
    reference: imageReference(repository.uri, tag, digest),
  };
}
