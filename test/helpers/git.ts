import { execFileSync } from "node:child_process";

/** An author and committer for throwaway repositories, so commits need no git configuration. */
export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
} as const;

/** Runs git in `dir` as that identity; returns what it printed, trimmed. */
export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...GIT_IDENTITY },
  }).trim();
}

/** Makes `dir` a repository on branch main with everything in it committed; returns the commit. */
export function gitInitCommit(dir: string, message: string): string {
  gitIn(dir, "init", "-q", "-b", "main");
  gitIn(dir, "add", "-A");
  gitIn(dir, "commit", "-q", "-m", message);
  return gitIn(dir, "rev-parse", "HEAD");
}
