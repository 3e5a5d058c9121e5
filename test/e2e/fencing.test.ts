import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type KubeResource } from "../../src/kube/client.js";
import { kubeConfigFromFile } from "../../src/kube/cluster-access.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { type CliRun, spawnCli } from "../helpers/e2e-runs.js";
import { callCounts, testAccessKeyId } from "../helpers/sandbox.js";

// Fencing reaches the cloud: a run paused (as Ctrl-Z would) until its lease expired, while
// another run took the lease over and deployed, changes nothing when it is continued: no AWS
// request that changes anything, no Kubernetes write, and it exits 4 naming who holds the lease.
//
// The lease is short here (lockTimeout 24s, requestTimeout 5s: a run stops acting 12s before
// its lease expires), so the test waits seconds, not minutes.

const LEASE = { KUBECONTROL_LOCK_TIMEOUT: "24s", KUBECONTROL_REQUEST_TIMEOUT: "5s" };

let p: E2eProject;
let v1: string;
let v2: string;

beforeAll(async () => {
  p = await e2eProject("fence");
  v1 = p.git("rev-parse", "HEAD");
  v2 = p.commitChange("v2");
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

/** The image the colour's web Deployment runs, read with the cluster's admin credentials. */
async function webImage(): Promise<string | undefined> {
  const kubeconfig = adminKubeconfigPath(path.join(p.sbx.dir, "k8s"), `kc-${p.app}-blue`);
  const client = new KubeClient(kubeConfigFromFile(kubeconfig));
  try {
    const d = await client.get<
      KubeResource & { spec: { template: { spec: { containers: { image: string }[] } } } }
    >(`/apis/apps/v1/namespaces/${p.app}/deployments/web`);
    return d?.spec.template.spec.containers[0]?.image;
  } finally {
    client.close();
  }
}

/** Whether a process is stopped (state T in /proc/<pid>/stat). */
function stopped(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("T") === true;
  } catch {
    return false;
  }
}

async function until(what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!(await test())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const mutating = (calls: Record<string, number>) =>
  Object.entries(calls)
    .filter(([op]) => !/^(Describe|List|Get|BatchGet|BatchCheck)/.test(op.split(":")[1] ?? ""))
    .reduce((n, [, c]) => n + c, 0);

describe("a paused run that lost its lease", () => {
  it("changes nothing when it wakes, and exits 4 naming who holds the lease now", async () => {
    // given run A (its own access key) creating the app at v1, paused just before it applies the
    // Kubernetes objects
    const keyA = testAccessKeyId();
    let stderrA = "";
    const a = spawnCli(["create", p.app, "--version", v1, "--yes"], {
      cwd: p.root,
      env: {
        ...p.env,
        ...LEASE,
        KUBECONTROL_FAILPOINTS: "ensure-kube-objects:before-apply",
        KUBECONTROL_FAILPOINT_ACTION: "stop",
      },
      accessKeyId: keyA,
      onStderr: (text) => {
        stderrA = text;
      },
    });
    await until("run A to stop itself", () => stopped(a.pid), 120_000);
    expect(stderrA).toContain("failpoint ensure-kube-objects:before-apply: stopping the process");
    const callsWhenPaused = mutating((await callCounts(p.sbx, keyA)).calls);
    expect(callsWhenPaused).toBeGreaterThan(0);

    // when run B (another key) waits for the lease, takes it over once A's expired, and deploys v2
    const keyB = testAccessKeyId();
    const b = spawnCli(["create", p.app, "--version", v2, "--yes", "--wait-lock", "2m"], {
      cwd: p.root,
      env: { ...p.env, ...LEASE },
      accessKeyId: keyB,
    });
    const doneB: CliRun = await b.done;
    expect(doneB.status, doneB.stderr).toBe(0);
    expect(await webImage()).toContain(`:${v2}@sha256:`);
    const recordsAfterB = await weightedRecords(p.sbx, `${p.app}.example.com`);
    expect(recordsAfterB.map((r) => [r.SetIdentifier, r.Weight])).toEqual([[`kc-${p.app}-blue`, 100]]);

    // and A is continued (SIGCONT), as `fg` would
    process.kill(a.pid, "SIGCONT");
    const doneA = await a.done;

    if (process.env.KC_TEST_SHOW_OUTPUT) console.log(doneA.stderr);
    // then A made no AWS change after it woke
    expect(mutating((await callCounts(p.sbx, keyA)).calls)).toBe(callsWhenPaused);
    // and no Kubernetes write: the Deployment still runs B's v2 (A would have applied v1)
    expect(await webImage()).toContain(`:${v2}@sha256:`);
    expect(doneA.stderr).not.toMatch(/ensure-kube-objects: done/);
    // and DNS is as B left it
    expect(await weightedRecords(p.sbx, `${p.app}.example.com`)).toEqual(recordsAfterB);
    // and A exits 4, saying it lost the lease and who took it over (B, finished, released it)
    expect(doneA.status, doneA.stderr).toBe(4);
    expect(doneA.stderr).toMatch(/this create stopped: this run can no longer prove it holds the lease/);
    expect(doneA.stderr).toMatch(/took the lease over at \S+ and has released it since/);
  }, 300_000);
});
