import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import { redact, registerSecret } from "../io/redact.js";
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
   * Where remote sources are mirrored (a bare clone per remote; userSourcesDir()). With it, any
   * commit-ish of a remote resolves (abbreviated shas, tags, branches); without it only what
   * `ls-remote` lists.
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
    return revParse(app, gitDir, ref, splitRemote(where.remote).url);
  }
  if (commitish && FULL_SHA.test(commitish)) return commitish;
  const split = splitRemote(where.remote);
  const access = gitAccess(split);
  try {
    const { stdout } = await run("git", [...access.config, "ls-remote", "--", split.url, ref], {
      timeout: 30_000,
      env: access.env,
    });
    const sha = stdout.split(/\s+/)[0];
    if (sha && FULL_SHA.test(sha)) return sha;
  } catch (err) {
    throw unknownVersion(app, ref, split.url, err);
  }
  throw unknownVersion(app, ref, split.url, undefined);
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

/**
 * The subject line of `commit`'s message in the app's source (a path source's repository, or
 * this user's mirror of a remote, as resolveVersion left it: nothing is fetched here), redacted
 * and at most 200 characters; null when it cannot be read. Untrusted text: whoever shows it
 * escapes it. Never fails a run.
 */
export async function commitSubject(
  app: ResolvedKubeApp,
  projectRoot: string,
  commit: string,
  mirrorDir: string = userSourcesDir(),
): Promise<string | null> {
  const where = sourceLocation(app, projectRoot);
  const gitDir = "dir" in where ? where.dir : mirrorPath(where.remote, mirrorDir);
  if (!existsSync(gitDir)) return null;
  try {
    const { stdout } = await run(
      "git",
      [
        "-c",
        "core.hooksPath=/dev/null",
        "-C",
        gitDir,
        "log",
        "-1",
        "--format=%s",
        "--end-of-options",
        commit,
      ],
      { timeout: 10_000 },
    );
    const subject = redact(stdout.trim()).slice(0, 200);
    return subject || null;
  } catch {
    return null;
  }
}

/** Where this user's bare mirror of `remote` is (or will be). */
function mirrorPath(remote: string, mirrorDir: string): string {
  return path.join(
    mirrorDir,
    `${createHash("sha256").update(splitRemote(remote).url).digest("hex").slice(0, 16)}.git`,
  );
}

/**
 * How far `version` is behind the head of the app's source (the default branch, or the spec's):
 * the head and the number of commits on it that `version` lacks. Undefined when either cannot
 * be read (a version not in the source, a remote that does not answer).
 */
export async function commitsBehind(
  app: ResolvedKubeApp,
  projectRoot: string,
  version: string,
  mirrorDir: string,
): Promise<{ head: string; behind: number } | undefined> {
  try {
    const where = sourceLocation(app, projectRoot);
    const gitDir = "dir" in where ? where.dir : await syncMirror(where.remote, mirrorDir);
    const head = await revParse(app, gitDir, ("branch" in where && where.branch) || "HEAD", gitDir);
    if (head === version) return { head, behind: 0 };
    const { stdout } = await run(
      "git",
      ["-C", gitDir, "rev-list", "--count", "--end-of-options", `${version}..${head}`],
      { timeout: 10_000 },
    );
    return { head, behind: Number(stdout.trim()) };
  } catch {
    return undefined;
  }
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
 * Where this user's mirrors of git remotes are: in their own cache directory
 * (`$XDG_CACHE_HOME/kubecontrol/sources`, mode 0700), never in the shared state directory. A
 * mirror another deployer could write to could carry configuration (`remote.origin.uploadpack`,
 * a hook, another URL) that the next run of someone else, or of cron, would execute.
 */
export function userSourcesDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache");
  return path.join(cache, "kubecontrol", "sources");
}

/** A remote's URL without credentials, and the credentials it carried (they never reach git's argv or config). */
export interface SplitRemote {
  url: string;
  username?: string;
  password?: string;
}

/**
 * Takes the credentials out of an http(s) remote URL (`https://user:token@host/…`, or a token
 * given as the user, GitHub's own form): git gets the bare URL, and the credentials through a
 * credential helper that reads them from its environment. They are registered as secrets, so
 * no output or record shows them.
 */
export function splitRemote(remote: string): SplitRemote {
  if (!/^https?:\/\//i.test(remote)) return { url: remote };
  let u: URL;
  try {
    u = new URL(remote);
  } catch {
    return { url: remote };
  }
  if (!u.username && !u.password) return { url: remote };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const username = decode(u.username);
  const password = decode(u.password);
  registerSecret(password || username);
  registerSecret(u.password || u.username);
  u.username = "";
  u.password = "";
  return { url: u.toString(), username, password };
}

/**
 * git's options and environment for talking to a remote: the credentials (if any) through a
 * helper that prints them from the environment (argv shows only the helper's text, never a
 * value; nothing is written to any config), no terminal prompts, and no hooks.
 */
function gitAccess(remote: SplitRemote): { config: string[]; env: NodeJS.ProcessEnv } {
  const config = ["-c", "core.hooksPath=/dev/null", "-c", "credential.helper="];
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  if (remote.username !== undefined) {
    config.push(
      "-c",
      'credential.helper=!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" "$KUBECONTROL_GIT_USERNAME" "$KUBECONTROL_GIT_PASSWORD"; }; f',
    );
    env.KUBECONTROL_GIT_USERNAME = remote.username;
    env.KUBECONTROL_GIT_PASSWORD = remote.password ?? "";
  }
  return { config, env };
}

/**
 * A bare mirror of `remote` in this user's `mirrorDir`, cloned once and fetched on every call.
 * Fetches name the remote's URL explicitly (no `remote.origin.*` configuration is read), run
 * with hooks off, and get credentials only through their environment. Several runs may do this
 * at once: a clone goes to a temporary name and is renamed into place (the loser discards its
 * copy), and a fetch that lost a ref lock to another fetch is tried again.
 */
async function syncMirror(remote: string, mirrorDir: string): Promise<string> {
  const split = splitRemote(remote);
  const access = gitAccess(split);
  const gitDir = mirrorPath(remote, mirrorDir);
  try {
    if (!existsSync(mirrorDir)) {
      await mkdir(mirrorDir, { recursive: true, mode: 0o700 });
      await chmod(mirrorDir, 0o700);
    }
    if (existsSync(path.join(gitDir, "HEAD"))) {
      const fetch = () =>
        run(
          "git",
          [
            ...access.config,
            "-C",
            gitDir,
            "fetch",
            "--no-write-fetch-head",
            "--prune",
            "--",
            split.url,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
          ],
          { timeout: GIT_TIMEOUT_MS, env: access.env },
        );
      await fetch().catch(fetch);
    } else {
      const temp = await mkdtemp(path.join(mirrorDir, ".clone-"));
      try {
        await run(
          "git",
          [
            ...access.config,
            "clone",
            "--mirror",
            "--no-local",
            "--quiet",
            "--",
            split.url,
            path.join(temp, "m.git"),
          ],
          { timeout: GIT_TIMEOUT_MS, env: access.env },
        );
        await rename(path.join(temp, "m.git"), gitDir).catch((err: unknown) => {
          if (!existsSync(path.join(gitDir, "HEAD"))) throw err;
        });
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }
  } catch (err) {
    throw new KubecontrolError("PRECONDITION", `could not fetch the app's source from ${split.url}`, {
      hint: "check that the remote exists and this host may read it (git ls-remote <url>)",
      cause: new Error(redact((err as Error).message ?? String(err))),
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
