import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAws } from "../../src/aws/create-aws.js";
import { runSteps } from "../../src/engine/runner.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { planApp } from "../../src/plan/plan.js";
import { loadApp } from "../../src/spec/loader.js";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "./apps.js";
import { destroyPlanSteps } from "./destroy-plan.js";
import { type CliRun, spawnCli } from "./e2e-runs.js";
import { gitIn, gitInitCommit } from "./git.js";
import { type TestSandbox, testAccessKeyId, testSandbox, uniqueName } from "./sandbox.js";

/** What a run of bin/kubecontrol printed, and how it ended. */
export interface Cli {
  status: number;
  /** The signal that ended it (a failpoint's SIGKILL), if one did. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A throwaway project holding one app (hello's Dockerfile, a spec of its own name) in a git repository. */
export interface E2eProject {
  sbx: TestSandbox;
  root: string;
  app: string;
  /** The CLI's environment: the sandbox's AWS endpoint, a state directory of the project's own. */
  env: NodeJS.ProcessEnv;
  /**
   * Runs bin/kubecontrol in the project, without a terminal (stdin is not a TTY), signing with
   * `accessKeyId` (a fresh key by default); `onStderr` sees its progress as it comes.
   */
  kubecontrol(
    args: string[],
    o?: { accessKeyId?: string; onStderr?: (text: string) => void; env?: NodeJS.ProcessEnv },
  ): Promise<CliRun>;
  /** Runs git in the project; returns what it printed, trimmed. */
  git(...args: string[]): string;
  /** A new commit that changes the app's source (its page), so the version has a new image; returns it. */
  commitChange(text: string): string;
  /** Rewrites the app's spec (not committed: the image is built from the committed tree). */
  writeSpec(edit: (spec: string) => string): void;
  /** Removes everything the app made in AWS (both colours, app-scoped resources too) and the project. */
  cleanup(): Promise<void>;
}

/**
 * Removes everything `app` (its spec in `appsDir`) made in the sandbox, whatever a run left:
 * green, then blue with the app-scoped resources (what `destroy` does). Says whether all went.
 */
export async function removeApp(
  sbx: TestSandbox,
  appsDir: string,
  app: string,
  who = "test-cleanup",
): Promise<boolean> {
  const { app: resolved } = await loadApp(appsDir, app);
  const aws = createAws({
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
  });
  const pace = { pollMs: 50, maxPollMs: 500 };
  const plan = (colour: "blue" | "green") => planApp({ app: resolved, colour, version: "cleanup" });
  const green = await runSteps(teardownSteps(plan("green"), aws, who, { pace }));
  const blue = await runSteps(destroyPlanSteps(plan("blue"), aws, who, { pace }));
  return green.ok && blue.ok;
}

/**
 * A project with hello's image and a copy of its spec under a unique name `<prefix>-<hex>`,
 * edited by `edit` (which gets the spec text and the app's name), committed to git.
 */
export async function e2eProject(prefix: string, edit: (spec: string, app: string) => string = (s) => s) {
  const sbx = await testSandbox();
  const root = mkdtempSync(path.join(tmpdir(), `kc-e2e-${prefix}-`));
  const app = uniqueName(prefix);
  const specFile = path.join(root, "apps", `${app}.ts`);
  cpSync(path.join(repoRoot, "apps/hello"), path.join(root, "apps/hello"), { recursive: true });
  const spec = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${app}"`)
    .replace('repository: "hello"', `repository: "${app}"`)
    .replace('record: "hello.example.com"', `record: "${app}.example.com"`);
  writeFileSync(specFile, edit(spec, app));
  gitInitCommit(root, app);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sbx.env,
    NO_COLOR: "1",
    KUBECONTROL_STATE_DIR: path.join(root, ".state"),
  };
  const git = (...args: string[]) => gitIn(root, ...args);
  const project: E2eProject = {
    sbx,
    root,
    app,
    env,
    kubecontrol(args, o = {}) {
      return spawnCli(args, {
        cwd: root,
        env: { ...env, ...o.env },
        accessKeyId: o.accessKeyId ?? testAccessKeyId(),
        onStderr: o.onStderr,
      }).done;
    },
    git,
    commitChange(text) {
      appendFileSync(path.join(root, "apps/hello/index.html"), `<p>${text}</p>\n`);
      git("commit", "-q", "-am", text);
      return git("rev-parse", "HEAD");
    },
    writeSpec(change) {
      writeFileSync(specFile, change(readFileSync(specFile, "utf8")));
    },
    async cleanup() {
      try {
        await removeApp(sbx, path.join(root, "apps"), app);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return project;
}

/** A Route 53 record set as the AWS CLI prints it. */
export interface RecordSet {
  Name: string;
  SetIdentifier?: string;
  Weight?: number;
  ResourceRecords?: { Value: string }[];
}

/** The weighted records of `name` in the sandbox's example.com zone. */
export async function weightedRecords(sbx: TestSandbox, name: string): Promise<RecordSet[]> {
  const zones = (await awsCli(sbx, ["route53", "list-hosted-zones"])) as {
    HostedZones: { Id: string; Name: string }[];
  };
  const zone = zones.HostedZones.find((z) => z.Name === "example.com.")!;
  const sets = (await awsCli(sbx, ["route53", "list-resource-record-sets", "--hosted-zone-id", zone.Id])) as {
    ResourceRecordSets: RecordSet[];
  };
  return sets.ResourceRecordSets.filter((s) => s.Name === `${name}.`);
}
