import { type ECRClient, PutImageCommand } from "@aws-sdk/client-ecr";

/** The manifest of a stand-in build named `build`: one per name, as a builder pushes one per commit. */
export function buildManifest(build: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${"0".repeat(64)}`,
      size: 2,
    },
    layers: [],
    annotations: { build },
  });
}

/** Pushes build `build` to `repository`, tagged `tag` (default: the build's name). */
export async function pushBuild(
  ecr: ECRClient,
  repository: string,
  build: string,
  tag = build,
): Promise<void> {
  await ecr.send(
    new PutImageCommand({
      repositoryName: repository,
      imageManifest: buildManifest(build),
      imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      imageTag: tag,
    }),
  );
}
