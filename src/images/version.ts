import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";

const run = promisify(execFile);
const FULL_SHA = /^[0-9a-f]{40}$/;

/** Where an app's source is: a directory (relative to the project root, the parent of apps/) or a git remote. */
export function sourceLocation(
  app: ResolvedKubeApp,
  projectRoot: string,
): { dir: string } | { remote: string; branch?: string } {
  const source = app.image.source;
  if ("path" in source) return { dir: path.resolve(projectRoot, source.path) };
  return source.branch ? { remote: source.git, branch: source.branch } : { remote: source.git };
}

/**
 * Resolves a commit-ish to a full commit in the app's source. A full 40-hex sha is taken as
 * given when `trustFullSha` is set (planning needs no checkout); everything else asks git.
 */
export async function resolveVersion(
  app: ResolvedKubeApp,
  projectRoot: string,
  commitish: string | undefined,
  { trustFullSha = false } = {},
): Promise<string> {
  if (commitish && FULL_SHA.test(commitish) && trustFullSha) return commitish;
  const where = sourceLocation(app, projectRoot);
  if ("dir" in where) {
    const ref = commitish ?? "HEAD";
    try {
      const { stdout } = await run("git", [
        "-C",
        where.dir,
        "rev-parse",
        "--verify",
        "--quiet",
        `${ref}^{commit}`,
      ]);
      return stdout.trim();
    } catch (err) {
      throw unknownVersion(app, ref, where.dir, err);
    }
  }
  if (commitish && FULL_SHA.test(commitish)) return commitish;
  const ref = commitish ?? where.branch ?? "HEAD";
  try {
    const { stdout } = await run("git", ["ls-remote", where.remote, ref], { timeout: 30_000 });
    const sha = stdout.split(/\s+/)[0];
    if (sha && FULL_SHA.test(sha)) return sha;
  } catch (err) {
    throw unknownVersion(app, ref, where.remote, err);
  }
  throw unknownVersion(app, ref, where.remote, undefined);
}

function unknownVersion(app: ResolvedKubeApp, ref: string, where: string, cause: unknown): KubecontrolError {
  return new KubecontrolError("NOT_FOUND", `version "${ref}" of ${app.name} is not a commit in ${where}`, {
    hint: "pass --version with a commit, tag or branch that exists in the app's source (git log shows them)",
    cause,
  });
}
