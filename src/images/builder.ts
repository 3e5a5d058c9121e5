import type { ImageRepository, RegistryAuth } from "./ecr-images.js";

/** What a builder is asked to make: one image of the app at one commit, pushed as `<uri>:<tag>`. */
export interface BuildRequest {
  app: string;
  repository: ImageRepository;
  /** The full commit: the source version and the image tag. */
  commit: string;
  /** A local git directory holding the commit (the source repository or its mirror). */
  gitDir: string;
  /** The source's remote URL, for builders that fetch the source themselves. */
  remote: string | undefined;
  /** Build context, relative to the source root. */
  context: string;
  /** Dockerfile, relative to the context. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Fresh registry credentials for each push (never cached, never logged). */
  registryAuth(): Promise<RegistryAuth>;
  /** Progress for the person or the event stream (no secrets). */
  progress(message: string): void;
  signal?: AbortSignal;
}

/** What a builder reports: the digest it pushed, when it knows it. ECR has the last word. */
export interface BuildResult {
  digest?: string;
  /** Where to read the build's own log, when it lives elsewhere (CodeBuild). */
  logs?: string;
}

/** One way to build and push an image: buildah on this host, or AWS CodeBuild. */
export interface ImageBuilder {
  readonly name: "buildah" | "codebuild";
  /**
   * Refuses (PRECONDITION) a source this builder cannot build from, before a deployment makes
   * anything: CodeBuild fetches the source itself, over https only.
   */
  preflight?(source: { app: string; remote: string | undefined }): void;
  build(request: BuildRequest): Promise<BuildResult>;
}
