import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAws } from "../../src/aws/create-aws.js";
import { runSteps } from "../../src/engine/runner.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { planApp } from "../../src/plan/plan.js";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { sandboxEnv } from "../../src/sandbox/env.js";
import { requireUp, sandboxDown, sandboxUp } from "../../src/sandbox/lifecycle.js";
import { defaultSeedRequirements, seedRequirementsFromApps } from "../../src/sandbox/seed.js";
import { loadApp, loadApps } from "../../src/spec/loader.js";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "./apps.js";
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
  /** Runs bin/kubecontrol in the project; `onStderr` sees its progress as it comes. */
  kubecontrol(
    args: string[],
    o?: { accessKeyId?: string; onStderr?: (text: string) => void; env?: NodeJS.ProcessEnv },
  ): Promise<Cli>;
  /** Rewrites the app's spec (not committed: the image is built from the committed tree). */
  writeSpec(edit: (spec: string) => string): void;
  /** Removes everything the app made in AWS (app-scoped resources too), the project, a private sandbox. */
  cleanup(): Promise<void>;
}

/**
 * The sandbox loads AWS managed IAM policies since its launcher asks moto to; a shared test
 * sandbox started before that cannot give a colour its roles, so one of its own is brought up
 * (seconds, warm) and stopped at the end.
 */
async function sandboxWithManagedPolicies(): Promise<{ sbx: TestSandbox; privateDir?: string }> {
  const shared = await testSandbox();
  const probe = await awsCli(shared, [
    "iam",
    "get-policy",
    "--policy-arn",
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
  ]).catch(() => undefined);
  if (probe) return { sbx: shared };
  const dir = mkdtempSync(path.join(tmpdir(), "kc-e2e-sandbox-"));
  const { apps } = await loadApps(path.join(repoRoot, "apps"));
  const seed = seedRequirementsFromApps(
    apps.map((a) => a.app),
    defaultSeedRequirements(shared.region),
  );
  await sandboxUp({ dir, region: shared.region, seed });
  const state = requireUp(dir);
  const motoUrl = state.components.moto!.address!;
  await adminCall(`${motoUrl}/_sandbox/config`, {
    body: { eksCreateDelaySeconds: 0, eksDeleteDelaySeconds: 0 },
  });
  const e = sandboxEnv(state);
  return {
    sbx: {
      dir,
      region: state.region,
      endpoint: e.AWS_ENDPOINT_URL!,
      motoUrl,
      proxyUrl: state.components.proxy!.address!,
      env: e,
      startedHere: true,
    },
    privateDir: dir,
  };
}

/**
 * A project with hello's image and a copy of its spec under a unique name `<prefix>-<hex>`,
 * edited by `edit` (which gets the spec text and the app's name), committed to git.
 */
export async function e2eProject(prefix: string, edit: (spec: string, app: string) => string = (s) => s) {
  const { sbx, privateDir } = await sandboxWithManagedPolicies();
  const root = mkdtempSync(path.join(tmpdir(), "kc-e2e-"));
  const app = uniqueName(prefix);
  const specFile = path.join(root, "apps", `${app}.ts`);
  cpSync(path.join(repoRoot, "apps/hello"), path.join(root, "apps/hello"), { recursive: true });
  const spec = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${app}"`)
    .replace('repository: "hello"', `repository: "${app}"`)
    .replace('record: "hello.example.com"', `record: "${app}.example.com"`);
  writeFileSync(specFile, edit(spec, app));
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", root, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", app);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sbx.env,
    NO_COLOR: "1",
    KUBECONTROL_STATE_DIR: path.join(root, ".state"),
  };
  const project: E2eProject = {
    sbx,
    root,
    app,
    env,
    kubecontrol(args, o = {}) {
      const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, "bin/kubecontrol"), ...args], {
        cwd: root,
        env: { ...env, AWS_ACCESS_KEY_ID: o.accessKeyId ?? testAccessKeyId(), ...o.env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (d) => {
        stdout += d;
      });
      child.stderr?.on("data", (d) => {
        stderr += d;
        o.onStderr?.(stderr);
      });
      return new Promise<Cli>((resolve) =>
        child.on("close", (code, signal) => resolve({ status: code ?? -1, signal, stdout, stderr })),
      );
    },
    writeSpec(change) {
      writeFileSync(specFile, change(readFileSync(specFile, "utf8")));
    },
    async cleanup() {
      try {
        const { app: resolvedApp } = await loadApp(path.join(root, "apps"), app);
        const aws = createAws({
          region: sbx.region,
          endpoint: sbx.endpoint,
          credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
        });
        const plan = planApp({ app: resolvedApp, colour: "blue", version: "cleanup" });
        await runSteps(
          teardownSteps(plan, aws, "test-cleanup", { destroy: true, pace: { pollMs: 50, maxPollMs: 500 } }),
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
        if (privateDir) {
          await sandboxDown(privateDir);
          rmSync(privateDir, { recursive: true, force: true });
        }
      }
    },
  };
  return project;
}

/** The weighted records of `name` in the sandbox's example.com zone. */
export async function weightedRecords(
  sbx: TestSandbox,
  name: string,
): Promise<{ Name: string; SetIdentifier?: string; Weight?: number }[]> {
  const zones = (await awsCli(sbx, ["route53", "list-hosted-zones"])) as {
    HostedZones: { Id: string; Name: string }[];
  };
  const zone = zones.HostedZones.find((z) => z.Name === "example.com.")!;
  const sets = (await awsCli(sbx, ["route53", "list-resource-record-sets", "--hosted-zone-id", zone.Id])) as {
    ResourceRecordSets: { Name: string; SetIdentifier?: string; Weight?: number }[];
  };
  return sets.ResourceRecordSets.filter((s) => s.Name === `${name}.`);
}
