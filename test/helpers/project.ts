import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "./apps.js";
import { uniqueName } from "./sandbox.js";

/** A throwaway project: a git repository holding a copy of hello under a name of its own. */
export interface TestProject {
  root: string;
  /** The app's (unique) name. */
  app: string;
  /** Runs git in the project. */
  git(...args: string[]): string;
  remove(): void;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
};

/** Copies apps/hello (spec and Dockerfile) into a new git repository, renamed `<prefix>-<random>`. */
export function helloProject(prefix = "hello"): TestProject {
  const root = mkdtempSync(path.join(tmpdir(), `kc-${prefix}-`));
  const app = uniqueName(prefix);
  cpSync(path.join(repoRoot, "apps/hello"), path.join(root, "apps/hello"), { recursive: true });
  const spec = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${app}"`)
    .replace('repository: "hello"', `repository: "${app}"`)
    .replace('record: "hello.example.com"', `record: "${app}.example.com"`);
  writeFileSync(path.join(root, "apps", `${app}.ts`), spec);
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", root, ...args], { env: { ...process.env, ...GIT_ENV }, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "hello");
  return { root, app, git, remove: () => rmSync(root, { recursive: true, force: true }) };
}
