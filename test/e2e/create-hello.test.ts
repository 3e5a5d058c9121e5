import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { repoRoot } from "../helpers/apps.js";
import {
  callCounts,
  type TestSandbox,
  testAccessKeyId,
  testSandbox,
  uniqueName,
} from "../helpers/sandbox.js";

// End to end: bin/kubecontrol as a real process against the sandbox, checked with the AWS CLI
// and the load balancer itself.

interface Cli {
  status: number;
  stdout: string;
  stderr: string;
}

let sbx: TestSandbox;
let privateSandbox: string | undefined;
let root: string;
let app: string;
let env: NodeJS.ProcessEnv;

/** Runs the CLI; `onStderr` sees its progress as it comes. */
function kubecontrol(args: string[], accessKeyId = testAccessKeyId(), onStderr?: (text: string) => void) {
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, "bin/kubecontrol"), ...args], {
    cwd: root,
    env: { ...env, AWS_ACCESS_KEY_ID: accessKeyId },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
    onStderr?.(stderr);
  });
  return new Promise<Cli>((resolve) =>
    child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr })),
  );
}

/**
 * The sandbox loads AWS managed IAM policies since its launcher asks moto to; a shared test
 * sandbox started before that cannot give a colour its roles, so this file brings up one of
 * its own (seconds, warm) and stops it at the end.
 */
async function sandboxWithManagedPolicies(): Promise<TestSandbox> {
  const shared = await testSandbox();
  const probe = await awsCli(shared, [
    "iam",
    "get-policy",
    "--policy-arn",
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
  ]).catch(() => undefined);
  if (probe) return shared;
  const dir = mkdtempSync(path.join(tmpdir(), "kc-e2e-sandbox-"));
  const { apps } = await loadApps(path.join(repoRoot, "apps"));
  const seed = seedRequirementsFromApps(
    apps.map((a) => a.app),
    defaultSeedRequirements(shared.region),
  );
  await sandboxUp({ dir, region: shared.region, seed });
  privateSandbox = dir;
  const state = requireUp(dir);
  const motoUrl = state.components.moto!.address!;
  await adminCall(`${motoUrl}/_sandbox/config`, {
    body: { eksCreateDelaySeconds: 0, eksDeleteDelaySeconds: 0 },
  });
  const e = sandboxEnv(state);
  return {
    dir,
    region: state.region,
    endpoint: e.AWS_ENDPOINT_URL!,
    motoUrl,
    proxyUrl: state.components.proxy!.address!,
    env: e,
    startedHere: true,
  };
}

beforeAll(async () => {
  sbx = await sandboxWithManagedPolicies();
  // A throwaway project: a git repository with hello's Dockerfile and a spec of its own name.
  root = mkdtempSync(path.join(tmpdir(), "kc-e2e-"));
  app = uniqueName("hello");
  cpSync(path.join(repoRoot, "apps/hello"), path.join(root, "apps/hello"), { recursive: true });
  const spec = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${app}"`)
    .replace('repository: "hello"', `repository: "${app}"`)
    .replace('record: "hello.example.com"', `record: "${app}.example.com"`);
  writeFileSync(path.join(root, "apps", `${app}.ts`), spec);
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
  git("commit", "-q", "-m", "hello");
  env = { ...process.env, ...sbx.env, NO_COLOR: "1", KUBECONTROL_STATE_DIR: path.join(root, ".state") };
}, 120_000);

afterAll(async () => {
  // Everything the app made, app-scoped resources included (what `destroy` will do).
  if (sbx && app) {
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
  }
  if (root) rmSync(root, { recursive: true, force: true });
  if (privateSandbox) {
    await sandboxDown(privateSandbox);
    rmSync(privateSandbox, { recursive: true, force: true });
  }
}, 120_000);

const READ_ONLY = /^(Describe|List|Get|BatchGet)/;

describe("kubecontrol create, end to end", () => {
  it("creates a colour and points DNS at it, while a second create of the app is refused its lease", async () => {
    // given a fresh app; when create runs, and a second create starts once the first holds the lease
    let second: Promise<Cli> | undefined;
    const first = kubecontrol(["create", app, "--yes"], testAccessKeyId(), (text) => {
      if (!second && /create \S+: \d+ steps/.test(text)) second = kubecontrol(["create", app, "--yes"]);
    });
    const done = await first;
    // then the first succeeds
    expect(done.status, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/created in/);
    // and the second exits 4, naming who holds the lease
    expect(second, "the second create never started").toBeDefined();
    const refused = await second!;
    expect(refused.status, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(/is being deployed by \S+@\S+ \(pid \d+/);

    // and DNS points at the colour's load balancer, which answers 200 through its DNS name
    const zones = (await awsCli(sbx, ["route53", "list-hosted-zones"])) as {
      HostedZones: { Id: string; Name: string }[];
    };
    const zone = zones.HostedZones.find((z) => z.Name === "example.com.")!;
    const sets = (await awsCli(sbx, [
      "route53",
      "list-resource-record-sets",
      "--hosted-zone-id",
      zone.Id,
    ])) as {
      ResourceRecordSets: {
        Name: string;
        SetIdentifier?: string;
        Weight?: number;
        ResourceRecords?: { Value: string }[];
      }[];
    };
    const record = sets.ResourceRecordSets.find((s) => s.Name === `${app}.example.com.`);
    const lbs = (await awsCli(sbx, ["elbv2", "describe-load-balancers", "--names", `kc-${app}-blue`])) as {
      LoadBalancers: { DNSName: string }[];
    };
    const dnsName = lbs.LoadBalancers[0]!.DNSName;
    expect(record).toMatchObject({
      SetIdentifier: `kc-${app}-blue`,
      Weight: 100,
      ResourceRecords: [{ Value: dnsName }],
    });
    const answer = await fetch(`http://${dnsName}/`);
    expect(answer.status).toBe(200);

    // and history has the run
    const history = await kubecontrol(["history", app, "-o", "json"]);
    const runs = (
      JSON.parse(history.stdout) as { runs: { command: string; result: string; colour: string }[] }
    ).runs;
    expect(runs).toContainEqual(
      expect.objectContaining({ command: "create", result: "succeeded", colour: "blue" }),
    );
  }, 120_000);

  it("changes nothing when run again: no mutating AWS call", async () => {
    // given the app created above; when create runs again under an access key of its own
    const key = testAccessKeyId();
    const again = await kubecontrol(["create", app, "--yes"], key);
    // then it succeeds as a no-op, and the proxy saw only reads from it
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing changed/);
    const counts = await callCounts(sbx, key);
    const mutating = Object.keys(counts.calls).filter((op) => !READ_ONLY.test(op.split(":")[1] ?? ""));
    expect(mutating, JSON.stringify(counts.calls)).toEqual([]);
    expect(counts.total).toBeGreaterThan(0);
  }, 60_000);

  it("tears the colour down, refusing while DNS points at it unless forced", async () => {
    // when teardown runs without --force, then it refuses (exit 5) and changes nothing
    const refused = await kubecontrol(["teardown", app, "--colour", "blue", "--yes"]);
    expect(refused.status, refused.stderr).toBe(5);
    expect(refused.stderr).toMatch(/DNS points at/);
    // when forced, then it succeeds and nothing tagged for the colour remains (terminated instances aside)
    const done = await kubecontrol(["teardown", app, "--colour", "blue", "--force", "--yes"]);
    expect(done.status, done.stderr).toBe(0);
    const tagged = (await awsCli(sbx, [
      "resourcegroupstaggingapi",
      "get-resources",
      "--tag-filters",
      `Key=kubecontrol:app,Values=${app}`,
      "Key=kubecontrol:colour,Values=blue",
    ])) as { ResourceTagMappingList: { ResourceARN: string }[] };
    const instances = tagged.ResourceTagMappingList.map((r) => r.ResourceARN).filter((a) =>
      a.includes(":instance/"),
    );
    const live = instances.length
      ? ((await awsCli(sbx, [
          "ec2",
          "describe-instances",
          "--instance-ids",
          ...instances.map((a) => a.split("/").pop()!),
          "--query",
          "Reservations[].Instances[?State.Name!='terminated'][].InstanceId",
        ])) as string[])
      : [];
    const rest = tagged.ResourceTagMappingList.map((r) => r.ResourceARN).filter(
      (a) => !a.includes(":instance/"),
    );
    expect([...rest, ...live]).toEqual([]);
    const clusters = (await awsCli(sbx, ["eks", "list-clusters"])) as { clusters: string[] };
    expect(clusters.clusters).not.toContain(`kc-${app}-blue`);
  }, 60_000);
});
