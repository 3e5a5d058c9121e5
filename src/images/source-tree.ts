import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubecontrolError } from "../errors.js";

/** A commit's tree exported into a temporary directory; `dispose` removes it. */
export interface ExportedTree {
  dir: string;
  dispose(): Promise<void>;
}

/**
 * Exports the tree of `commit` (the part under the git directory's own subdirectory, when the
 * source is a subdirectory of a repository) into a fresh temporary directory with git archive,
 * so a build never sees uncommitted or ignored files of a working copy.
 */
export async function exportTree(gitDir: string, commit: string): Promise<ExportedTree> {
  const prefix = (await git(gitDir, ["rev-parse", "--show-prefix"]).catch(() => "")).trim();
  const dir = await mkdtemp(path.join(tmpdir(), "kc-context-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeArchive(gitDir, prefix ? `${commit}:${prefix}` : commit, dir);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { dir, dispose };
}

function git(gitDir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", gitDir, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `git ${code}`))));
  });
}

/** git archive | tar -x, without a shell; either side failing fails the export. */
function pipeArchive(gitDir: string, treeish: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn("git", ["-C", gitDir, "archive", "--format=tar", treeish], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tar = spawn("tar", ["-x", "-C", dest], { stdio: ["pipe", "ignore", "pipe"] });
    archive.stdout.pipe(tar.stdin);
    let errors = "";
    archive.stderr.on("data", (d: Buffer) => {
      errors += d;
    });
    tar.stderr.on("data", (d: Buffer) => {
      errors += d;
    });
    let pending = 2;
    let failed = false;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0 && !failed) {
        failed = true;
        reject(
          new KubecontrolError("STEP_FAILED", `could not export ${treeish} from ${gitDir}: ${what} failed`, {
            details: { output: errors.trim().slice(-2000) },
          }),
        );
      }
      if (--pending === 0 && !failed) resolve();
    };
    archive.on("close", done("git archive"));
    tar.on("close", done("tar"));
    archive.on("error", reject);
    tar.on("error", reject);
  });
}
