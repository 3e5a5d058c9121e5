import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { type CliRun, spawnCli } from "../helpers/e2e-runs.js";
import { callCounts, testAccessKeyId } from "../helpers/sandbox.js";
import { loadStagesWhenClusterExists } from "../helpers/stages.js";

// Verification is a judgement made on every run: a worker Deployment that never becomes Ready
// (no load balancer, so target health cannot notice) fails create, and fails it again when the
// same command runs again with nothing left to apply; the same for update. DNS is never
// touched: no ChangeResourceRecordSets, the record sets byte for byte as they were.

/** A worker component on the app's pool whose pods run but never pass readiness (KWOK stage). */
const withNeverReadyWorker = (spec: string) =>
  spec.replace(
    "  },\n  services: {",
    `    worker: {
      pool: "general",
      replicas: 1,
      labels: { "${STAGE_LABEL}": "never-ready" },
      containers: [{ name: "worker", image: "app", resources: { cpu: "50m", memory: "32Mi" } }],
    },
  },
  services: {`,
  );

const quickVerify = (spec: string) =>
  spec.replace("  dns: {", '  deploy: { verify: { timeout: "20s" } },\n  dns: {');

let created: E2eProject;
let updated: E2eProject;

beforeAll(async () => {
  [created, updated] = await Promise.all([
    e2eProject("twice-c", (s) => quickVerify(withNeverReadyWorker(s))),
    e2eProject("twice-u", (s) => quickVerify(s)),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([created?.cleanup(), updated?.cleanup()]);
}, 240_000);

/** Every record set of the app's name, as the AWS CLI prints them (compared as text). */
async function recordSets(p: E2eProject): Promise<string> {
  const zones = (await awsCli(p.sbx, ["route53", "list-hosted-zones"])) as {
    HostedZones: { Id: string; Name: string }[];
  };
  const zone = zones.HostedZones.find((z) => z.Name === "example.com.")!;
  const sets = (await awsCli(p.sbx, [
    "route53",
    "list-resource-record-sets",
    "--hosted-zone-id",
    zone.Id,
  ])) as {
    ResourceRecordSets: { Name: string }[];
  };
  return JSON.stringify(sets.ResourceRecordSets.filter((s) => s.Name === `${p.app}.example.com.`));
}

/** Runs the CLI with its own access key; says how many ChangeResourceRecordSets calls it made. */
async function run(
  p: E2eProject,
  args: string[],
  cluster?: string,
): Promise<CliRun & { dnsChanges: number }> {
  const key = testAccessKeyId();
  let finished = false;
  const cli = spawnCli(args, { cwd: p.root, env: p.env, accessKeyId: key });
  const done = cli.done.then((r) => {
    finished = true;
    return r;
  });
  if (cluster) await loadStagesWhenClusterExists(p.sbx.dir, cluster, ["pod-never-ready"], () => finished);
  const result = await done;
  const calls = (await callCounts(p.sbx, key)).calls;
  const dnsChanges = Object.entries(calls)
    .filter(([op]) => op.endsWith(":ChangeResourceRecordSets"))
    .reduce((n, [, c]) => n + c, 0);
  if (process.env.KC_TEST_SHOW_OUTPUT) console.log(result.stderr);
  return { ...result, dnsChanges };
}

describe("verification judged on every run", () => {
  it.concurrent("create fails while a workload is not Ready, and fails again when run again", async () => {
    const p = created;
    const before = await recordSets(p);
    // when create runs with a worker that never becomes Ready
    const first = await run(p, ["create", p.app, "--yes"], `kc-${p.app}-blue`);
    expect(first.status, first.stderr).toBe(7);
    expect(first.stderr).toMatch(/verify-workloads: FAILED: verification failed: deployment\/worker/);
    // and the same command runs again: nothing to apply, and the worker is still not Ready
    const second = await run(p, ["create", p.app, "--yes"]);
    expect(second.status, second.stderr).toBe(7);
    expect(second.stderr).toMatch(/ensure-kube-objects: no change/);
    expect(second.stderr).toMatch(/verify-workloads: FAILED: verification failed: deployment\/worker/);
    // then DNS was never touched
    expect([first.dnsChanges, second.dnsChanges]).toEqual([0, 0]);
    expect(await recordSets(p)).toBe(before);
  }, 300_000);

  it.concurrent("update fails while a workload of the new colour is not Ready, and again when run again", async () => {
    const p = updated;
    // given a healthy live colour
    const live = await run(p, ["create", p.app, "--yes"]);
    expect(live.status, live.stderr).toBe(0);
    // and a new version whose spec adds a worker that never becomes Ready
    p.writeSpec(withNeverReadyWorker);
    p.commitChange("adds a worker");
    const before = await recordSets(p);
    expect(before).toContain(`kc-${p.app}-blue`);

    // when update runs, and runs again
    const first = await run(p, ["update", p.app, "--yes"], `kc-${p.app}-green`);
    expect(first.status, first.stderr).toBe(7);
    expect(first.stderr).toMatch(/verify-workloads: FAILED: verification failed: deployment\/worker/);
    const second = await run(p, ["update", p.app, "--yes"]);
    expect(second.status, second.stderr).toBe(7);
    expect(second.stderr).toMatch(/verify-workloads: FAILED: verification failed: deployment\/worker/);

    // then DNS was never touched: blue keeps all of it
    expect([first.dnsChanges, second.dnsChanges]).toEqual([0, 0]);
    expect(await recordSets(p)).toBe(before);
  }, 300_000);
});
