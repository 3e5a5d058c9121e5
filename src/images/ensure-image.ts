import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import { acquireBuildLock } from "./build-lock.js";
import type { ImageBuilder } from "./builder.js";
import type { EcrImages, ImageRepository } from "./ecr-images.js";
import { findImage, type ImageRef } from "./find-image.js";
import { resolveVersion, sourceGitDir, sourceLocation, userSourcesDir } from "./version.js";

const run = promisify(execFile);

export interface EnsureImageOptions {
  app: ResolvedKubeApp;
  /** The directory app source paths are relative to (the parent of apps/). */
  projectRoot: string;
  /** Any commit-ish; default: the source's default branch head. */
  version?: string | undefined;
  /** Operator state directory: build locks and mirrors of remote sources live there. */
  stateDir: string;
  ecr: EcrImages;
  /** Made only when a build is needed. */
  builder: () => Promise<ImageBuilder>;
  progress?: (message: string) => void;
  signal?: AbortSignal;
  /** How long to wait for another process's build of the same image. */
  lockTimeoutMs?: number;
}

/** What ensureImage did: found the image in the registry (perhaps after another process built it) or built it. */
export interface EnsuredImage {
  app: string;
  commit: string;
  image: ImageRef;
  outcome: "found" | "built";
  /** Set when this call waited for another process's build of the same image. */
  waitedForOtherBuild: boolean;
  builder?: ImageBuilder["name"];
  logs?: string;
}

/**
 * The app's image at a code version, in the registry: resolves the version to a commit, asks
 * ECR for `<repository>:<commit>`, and builds and pushes it only when missing, once across
 * processes. Never prints: progress goes to `progress`, failures are coded errors.
 */
export async function ensureImage(o: EnsureImageOptions): Promise<EnsuredImage> {
  const progress = o.progress ?? (() => {});
  // Both are reads and independent; a bad version is reported before a missing repository.
  const [version, repo] = await Promise.allSettled([
    resolveVersion(o.app, o.projectRoot, o.version, { mirrorDir: userSourcesDir() }),
    o.ecr.repository(o.app.image.repository),
  ]);
  if (version.status === "rejected") throw version.reason;
  if (repo.status === "rejected") throw repo.reason;
  const commit = version.value;
  const repository = repo.value;
  const existing = await findImage(o.ecr, repository, commit);
  const base = { app: o.app.name, commit };
  if (existing) {
    progress(`${existing.repositoryUri}:${commit} is already in the registry: not building`);
    return { ...base, image: existing, outcome: "found", waitedForOtherBuild: false };
  }
  let waited = false;
  const lock = await acquireBuildLock({
    dir: path.join(o.stateDir, "locks", "images"),
    key: `${repository.uri}:${commit}`,
    timeoutMs: o.lockTimeoutMs ?? 60 * 60_000,
    ...(o.signal ? { signal: o.signal } : {}),
    onWait: () => {
      waited = true;
      progress(`another process is building ${repository.uri}:${commit}: waiting for it`);
    },
  });
  try {
    // The lock's previous holder may have built it while this process waited.
    const built = await findImage(o.ecr, repository, commit);
    if (built) {
      progress(`${built.repositoryUri}:${commit} is in the registry now: not building`);
      return { ...base, image: built, outcome: "found", waitedForOtherBuild: waited };
    }
    const builder = await o.builder();
    const result = await builder.build({
      app: o.app.name,
      repository,
      commit,
      gitDir: await sourceGitDir(o.app, o.projectRoot, userSourcesDir()),
      remote: await sourceRemote(o.app, o.projectRoot),
      context: o.app.image.context,
      dockerfile: o.app.image.dockerfile,
      buildArgs: o.app.image.buildArgs,
      registryAuth: () => o.ecr.registryAuth(),
      progress,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const image = await pushedImage(o.ecr, repository, commit, builder.name, result.logs);
    if (result.digest && result.digest !== image.digest) {
      progress(`${builder.name} reported ${result.digest}, ECR has ${image.digest}: using ECR's`);
    }
    progress(`built and pushed ${image.reference}`);
    return {
      ...base,
      image,
      outcome: "built",
      waitedForOtherBuild: waited,
      builder: builder.name,
      ...(result.logs ? { logs: result.logs } : {}),
    };
  } finally {
    lock.release();
  }
}

/** ECR has the last word on what was pushed: a builder that says it pushed but did not has failed. */
async function pushedImage(
  ecr: EcrImages,
  repository: ImageRepository,
  commit: string,
  builder: string,
  logs: string | undefined,
): Promise<ImageRef> {
  const image = await findImage(ecr, repository, commit);
  if (image) return image;
  throw new KubecontrolError(
    "STEP_FAILED",
    `${builder} reported success but ECR has no image ${repository.uri}:${commit}`,
    {
      hint: logs ? `read the build's log: ${logs}` : "check the build's push step and the repository",
      details: { builder, repository: repository.name, tag: commit },
    },
  );
}

/**
 * Refuses, before a deployment makes anything, a source the app's builder could not build from
 * when the image at `commit` is not in ECR yet (PRECONDITION, exit 5): CodeBuild's https-only
 * remotes. An image already pushed needs no build, so nothing is asked of the source then.
 */
export async function preflightImageSource(
  o: Pick<EnsureImageOptions, "app" | "projectRoot" | "ecr" | "builder">,
  commit: string,
): Promise<void> {
  const builder = await o.builder();
  if (!builder.preflight) return;
  const repository = await o.ecr.repository(o.app.image.repository).catch(() => undefined);
  if (repository && (await findImage(o.ecr, repository, commit))) return;
  builder.preflight({ app: o.app.name, remote: await sourceRemote(o.app, o.projectRoot) });
}

/** The remote a remote builder fetches from: the spec's git URL, or the path source's origin. */
async function sourceRemote(app: ResolvedKubeApp, projectRoot: string): Promise<string | undefined> {
  const where = sourceLocation(app, projectRoot);
  if ("remote" in where) return where.remote;
  try {
    const { stdout } = await run("git", ["-C", where.dir, "remote", "get-url", "origin"]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}
