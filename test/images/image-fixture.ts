import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateRepositoryCommand, DeleteRepositoryCommand, ECRClient } from "@aws-sdk/client-ecr";
import { type AwsClientOptions, EcrImages } from "../../src/images/ecr-images.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { baseSpec, repoRoot, resolved } from "../helpers/apps.js";
import { gitIn } from "../helpers/git.js";
import { sdkConfig, type TestSandbox, uniqueName } from "../helpers/sandbox.js";

/** A throwaway project: a git repository holding apps/hello (the example app's Dockerfile) and its spec. */
export interface HelloProject {
  root: string;
  stateDir: string;
  repository: string;
  app: ResolvedKubeApp;
  /** The first commit, the default branch's head until a test commits. */
  initialCommit: string;
  aws: AwsClientOptions;
  ecr: EcrImages;
  /** Commits every change in the work tree; returns the new commit. */
  commit(message: string): string;
  write(file: string, text: string): void;
  dispose(): Promise<void>;
}

/** Makes the project, its first commit, and a fresh ECR repository for it in the sandbox. */
export async function helloProject(sbx: TestSandbox): Promise<HelloProject> {
  const root = mkdtempSync(path.join(tmpdir(), "kc-image-test-"));
  const stateDir = path.join(root, ".state");
  cpSync(path.join(repoRoot, "apps/hello"), path.join(root, "apps/hello"), { recursive: true });
  const repository = uniqueName("kc-test-hello");
  // The CLI test reads the spec from apps/hello.ts; the in-process tests use the same values.
  writeFileSync(
    path.join(root, "apps/hello.ts"),
    `import { defineKubeApp } from "kubecontrol";\nexport default defineKubeApp(${JSON.stringify(spec(repository))});\n`,
  );
  writeFileSync(path.join(root, ".gitignore"), ".state/\n");
  const git = (...args: string[]) => gitIn(root, ...args);
  git("init", "-q", "-b", "main");
  const cfg = sdkConfig(sbx);
  await new ECRClient(cfg).send(new CreateRepositoryCommand({ repositoryName: repository }));
  const aws = { region: cfg.region, endpoint: cfg.endpoint, credentials: cfg.credentials };
  const project: HelloProject = {
    root,
    stateDir,
    repository,
    app: resolved(spec(repository)),
    initialCommit: "",
    aws,
    ecr: await EcrImages.create(aws),
    commit(message) {
      git("add", "-A");
      git("commit", "-q", "-m", message);
      return git("rev-parse", "HEAD");
    },
    write(file, text) {
      writeFileSync(path.join(root, file), text);
    },
    async dispose() {
      rmSync(root, { recursive: true, force: true });
      await new ECRClient(cfg)
        .send(new DeleteRepositoryCommand({ repositoryName: repository, force: true }))
        .catch(() => undefined);
    },
  };
  project.initialCommit = project.commit("hello");
  return project;
}

function spec(repository: string) {
  return baseSpec({ name: "hello", image: { repository, context: "apps/hello" } });
}
