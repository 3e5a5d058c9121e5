import { existsSync } from "node:fs";
import path from "node:path";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import type { ImageBuilder } from "./builder.js";
import type { AwsClientOptions } from "./ecr-images.js";

export interface BuilderSettings {
  /** The operator's default (config `imageBuilder`); the spec's image.builder wins. */
  imageBuilder: "buildah" | "codebuild";
  stateDir: string;
  aws: AwsClientOptions;
  /** Extra CA bundles for the registry (e.g. the sandbox CA from NODE_EXTRA_CA_CERTS). */
  caBundles?: string[];
  /**
   * Makes sure the app's CodeBuild role exists and is right (its policies, the source credentials
   * it may read), returning its ARN; without it the role must already be there.
   */
  ensureBuildRole?: (app: ResolvedKubeApp, signal?: AbortSignal) => Promise<string>;
}

/** CA bundles named by the environment (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS), for tools outside Node. */
export function caBundlesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.AWS_CA_BUNDLE, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f && existsSync(f));
}

/** Which builder builds the app: its spec's choice, else the operator's. */
export function builderName(app: ResolvedKubeApp, settings: Pick<BuilderSettings, "imageBuilder">) {
  return app.image.builder ?? settings.imageBuilder;
}

/** Makes the app's builder; each is loaded only when chosen. */
export async function chooseBuilder(app: ResolvedKubeApp, settings: BuilderSettings): Promise<ImageBuilder> {
  if (builderName(app, settings) === "codebuild") {
    const [{ codeBuildBuilder }, { sdkCodeBuildApi }] = await Promise.all([
      import("./codebuild-builder.js"),
      import("./codebuild-api.js"),
    ]);
    const ensureBuildRole = settings.ensureBuildRole;
    return codeBuildBuilder({
      api: await sdkCodeBuildApi(settings.aws),
      ...(ensureBuildRole
        ? { ensureServiceRole: (_name: string, signal?: AbortSignal) => ensureBuildRole(app, signal) }
        : {}),
      ...(app.image.codeBuild?.sourceCredentials
        ? { sourceCredentials: app.image.codeBuild.sourceCredentials }
        : {}),
    });
  }
  const { buildahBuilder } = await import("./buildah-builder.js");
  return buildahBuilder({
    storageDir: path.join(settings.stateDir, "buildah"),
    caBundles: settings.caBundles ?? [],
  });
}
