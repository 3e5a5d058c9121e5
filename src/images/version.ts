import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";

const run = promisify(execFile);
const FULL_SHA = /^[0-9a-f]{40}$/;
const GIT_TIMEOUT_MS = 120_000;

/** Where an app's source is: a directory (relative to the project root, the parent of apps/) or a git remote. */
export function sourceLocation(
  app: ResolvedKubeApp,
  projectRoot: string,
): { dir: string } | { remote: string; branch?: string } {
  const source = app.image.source;
  if ("path" in source) return { dir: path.resolve(projectRoot, source.path) };
  return source.branch ? { remote: source.git, branch: source.branch } : { remote: source.git };
}

export interface ResolveVersionOptions {
  /** Take a full 40-hex sha as given (planning needs no checkout). */
  trustFullSha?: boolean;
  /**
   * Where remote sources are mirrored (a bare clone per remote). With it, any commit-ish of a
   * remote resolves (abbreviated shas, tags, branches); without it only what `ls-remote` lists.
   */
  mirrorDir?: string;
}

/**
 * Resolves a commit-ish to a full commit in the app's source. Without one: HEAD of a path
 * source's repository, or the remote's default branch (or the spec's branch) for a git source.
 */
export async function resolveVersion(
  app: ResolvedKubeApp,
  projectRoot: string,
  commitish: string | undefined,
  { trustFullSha = false, mirrorDir }: ResolveVersionOptions = {},
): Promise<string> {
  if (commitish && FULL_SHA.test(commitish) && trustFullSha) return commitish;
  const where = sourceLocation(app, projectRoot);
  if ("dir" in where) return revParse(app, where.dir, commitish ?? "HEAD", where.dir);
  const ref = commitish ?? where.branch ?? "HEAD";
  if (mirrorDir) {
    const gitDir = await syncMirror(where.remote, mirrorDir);
    return revParse(app, gitDir, ref, where.remote, trusted(gitDir));
  }
  if (commitish && FULL_SHA.test(commitish)) return commitish;
  try {
    const { stdout } = await run("git", ["ls-remote", where.remote, ref], { timeout: 30_000 });
    const sha = stdout.split(/\s+/)[0];
    if (sha && FULL_SHA.test(sha)) return sha;
  } catch (err) {
    throw unknownVersion(app, ref, where.remote, err);
  }
  throw unknownVersion(app, ref, where.remote, undefined);
}

/**
 * The local git directory that holds the app's source: the path source's repository, or a
 * bare mirror of the remote (fetched now) under `mirrorDir`.
 */
export async function sourceGitDir(
  app: ResolvedKubeApp,
  projectRoot: string,
  mirrorDir: string,
): Promise<string> {
  const where = sourceLocation(app, projectRoot);
  return "dir" in where ? where.dir : syncMirror(where.remote, mirrorDir);
}

async function revParse(
  app: ResolvedKubeApp,
  gitDir: string,
  ref: string,
  where: string,
  config: string[] = [],
): Promise<string> {
  // "--end-of-options" keeps a version such as "--output=x" from being read as a flag.
  try {
    const { stdout } = await run("git", [
      ...config,
      "-C",
      gitDir,
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `${ref}^{commit}`,
    ]);
    return stdout.trim();
  } catch (err) {
    throw unknownVersion(app, ref, where, err);
  }
}

/**
 * A mirror belongs to whichever deployer cloned it, and git refuses to work in a repository
 * another user owns ("dubious ownership"). The mirrors are the deployers group's (kubecontrol
 * made them in the shared state directory), so git is told to trust each one by its path.
 */
function trusted(gitDir: string): string[] {
  return ["-c", `safe.directory=${gitDir}`];
}

/** Mirrors stay the group's: files 0660 and directories 2770 whoever writes them, never others'. */
const SHARED_REPOSITORY = "core.sharedRepository=0660";

/**
 * A bare mirror of `remote` under `mirrorDir`, cloned once and fetched on every call. Several
 * runs may do this at once: a clone goes to a temporary name and is renamed into place (the
 * loser discards its copy), and a fetch that lost a ref lock to another fetch is tried again.
 * Every deployer of the host fetches into the same mirror: it is group-shared (no FETCH_HEAD,
 * which git would leave writable by its first writer only; --no-local, as a local clone's
 * copied object directories would not be group-writable).
 */
async function syncMirror(remote: string, mirrorDir: string): Promise<string> {
  const gitDir = path.join(
    mirrorDir,
    `${createHash("sha256").update(remote).digest("hex").slice(0, 16)}.git`,
  );
  try {
    if (existsSync(path.join(gitDir, "HEAD"))) {
      const fetch = () =>
        run(
          "git",
          [...trusted(gitDir), "-C", gitDir, "fetch", "--no-write-fetch-head", "--prune", "--tags", "origin"],
          {
            timeout: GIT_TIMEOUT_MS,
          },
        );
      await fetch().catch(fetch);
    } else {
      if (!existsSync(mirrorDir)) {
        await mkdir(mirrorDir, { recursive: true });
        // setgid, so what is made inside keeps the state directory's group; another run that
        // made it at the same moment owns it, and its chmod is the one that counts.
        await chmod(mirrorDir, 0o2770).catch(() => {});
      }
      const temp = await mkdtemp(path.join(mirrorDir, ".clone-"));
      try {
        await run(
          "git",
          [
            "-c",
            SHARED_REPOSITORY,
            "clone",
            "--mirror",
            "--no-local",
            "--config",
            SHARED_REPOSITORY,
            "--quiet",
            "--",
            remote,
            path.join(temp, "m.git"),
          ],
          { timeout: GIT_TIMEOUT_MS },
        );
        await rename(path.join(temp, "m.git"), gitDir).catch((err: unknown) => {
          if (!existsSync(path.join(gitDir, "HEAD"))) throw err;
        });
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }
  } catch (err) {
    throw new KubecontrolError("PRECONDITION", `could not fetch the app's source from ${remote}`, {
      hint: "check that the remote exists and this host may read it (git ls-remote <url>)",
      cause: err,
      retryable: true,
    });
  }
  return gitDir;
}

function unknownVersion(app: ResolvedKubeApp, ref: string, where: string, cause: unknown): KubecontrolError {
  return new KubecontrolError("NOT_FOUND", `version "${ref}" of ${app.name} is not a commit in ${where}`, {
    hint: "pass --version with a commit, tag or branch that exists in the app's source (git log shows them)",
    cause,
  });
}
