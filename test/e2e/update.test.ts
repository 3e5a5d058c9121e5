import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, type RecordSet, weightedRecords } from "../helpers/e2e-project.js";
import { callCounts, type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: `kubecontrol update` as a real process against the sandbox (blue/green: build the
// idle colour, switch DNS in one change, tear the old colour down), checked with the AWS CLI,
// the load balancer itself and the proxy's call counts.

let project: E2eProject;
let sbx: TestSandbox;
let app: string;
/** The project's two commits: what create deploys, and what the update moves to. */
let first: string;
let second: string;

const kubecontrol = (args: string[], o: { accessKeyId?: string; env?: NodeJS.ProcessEnv } = {}) =>
  project.kubecontrol(args, o);

/** The app's weighted records, by set identifier. */
async function dnsRecords(): Promise<Record<string, RecordSet>> {
  const sets = await weightedRecords(sbx, `${app}.example.com`);
  return Object.fromEntries(sets.map((s) => [s.SetIdentifier, s]));
}

async function loadBalancerDns(colour: string): Promise<string> {
  const lbs = (await awsCli(sbx, ["elbv2", "describe-load-balancers", "--names", `kc-${app}-${colour}`])) as {
    LoadBalancers: { DNSName: string }[];
  };
  return lbs.LoadBalancers[0]!.DNSName;
}

async function clusters(): Promise<string[]> {
  return ((await awsCli(sbx, ["eks", "list-clusters"])) as { clusters: string[] }).clusters.filter((c) =>
    c.startsWith(`kc-${app}-`),
  );
}

const READ_ONLY = /^(Describe|List|Get|BatchGet)/;

beforeAll(async () => {
  // The project at two commits whose images differ.
  project = await e2eProject("upd");
  ({ sbx, app } = project);
  first = project.git("rev-parse", "HEAD");
  second = project.commitChange("second version");
}, 120_000);

afterAll(async () => {
  // Everything the app made: both colours, then the app-scoped resources (what `destroy` will do).
  await project?.cleanup();
}, 120_000);

describe("kubecontrol update, end to end", () => {
  it("refuses an app with no live colour, naming create", async () => {
    const r = await kubecontrol(["update", app, "--yes"]);
    expect(r.status, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/has no live colour/);
    expect(r.stderr).toMatch(new RegExp(`hint: .*kubecontrol create ${app}`));
  }, 60_000);

  it("builds the idle colour at the new version, switches DNS to it and removes the old one", async () => {
    // given the app created at the first commit (blue)
    const created = await kubecontrol(["create", app, "--version", first, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    // when it is updated to the second commit
    const t0 = Date.now();
    const updated = await kubecontrol(["update", app, "--version", second, "--yes"]);
    const seconds = (Date.now() - t0) / 1000;
    // then it succeeds
    expect(updated.status, updated.stderr).toBe(0);
    expect(updated.stderr).toMatch(/blue is live at \w+: green is built/);
    expect(updated.stderr).toMatch(/updated to \w+: green has all of DNS \(was blue\), blue removed/);
    process.stderr.write(`update ${app} blue -> green: ${seconds.toFixed(1)}s\n`);

    // and DNS gives green weight 100, pointing at its load balancer, which answers; blue's record is gone
    const records = await dnsRecords();
    const dnsName = await loadBalancerDns("green");
    expect(records[`kc-${app}-green`]).toMatchObject({ Weight: 100, ResourceRecords: [{ Value: dnsName }] });
    expect(records[`kc-${app}-blue`]?.Weight ?? 0).toBe(0);
    expect((await fetch(`http://${dnsName}/`)).status).toBe(200);
    // and blue's cluster is gone
    expect(await clusters()).toEqual([`kc-${app}-green`]);
    // and history has the run, at the second commit, for green
    const history = await kubecontrol(["history", app, "-o", "json"]);
    const runs = (
      JSON.parse(history.stdout) as {
        runs: { command: string; result: string; colour: string; version: string }[];
      }
    ).runs;
    expect(runs).toContainEqual(
      expect.objectContaining({ command: "update", result: "succeeded", colour: "green", version: second }),
    );
  }, 360_000);

  it("changes nothing when run again at the same version: no mutating AWS call", async () => {
    const key = testAccessKeyId();
    const again = await kubecontrol(["update", app, "--version", second, "--yes"], { accessKeyId: key });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already at \w+ with all of DNS, nothing changed/);
    const counts = await callCounts(sbx, key);
    const mutating = Object.keys(counts.calls).filter((op) => !READ_ONLY.test(op.split(":")[1] ?? ""));
    expect(mutating, JSON.stringify(counts.calls)).toEqual([]);
    expect(counts.total).toBeGreaterThan(0);
  }, 60_000);

  it("killed just after the DNS switch, finishes on a re-run by removing the old colour only", async () => {
    // given an update back to the first commit (its image is in ECR already), killed by SIGKILL
    // right after the switch's change batch was submitted
    const killed = await kubecontrol(["update", app, "--version", first, "--yes"], {
      env: { KUBECONTROL_FAILPOINTS: "switch-dns:after-apply" },
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(killed.stderr).toMatch(/failpoint switch-dns:after-apply/);
    // then DNS already points at blue and green is still there
    const switched = await dnsRecords();
    expect(switched[`kc-${app}-blue`]?.Weight).toBe(100);
    expect(switched[`kc-${app}-green`]?.Weight).toBe(0);
    expect((await clusters()).sort()).toEqual([`kc-${app}-blue`, `kc-${app}-green`]);

    // when the same update runs again
    const key = testAccessKeyId();
    const t0 = Date.now();
    const resumed = await kubecontrol(["update", app, "--version", first, "--yes"], { accessKeyId: key });
    const seconds = (Date.now() - t0) / 1000;
    // then it finishes by tearing green down, with no new cluster and no DNS change of its own
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/blue is live and already at \w+: finishing/);
    expect(resumed.stderr).toMatch(/already at \w+: finished the earlier update, green removed/);
    const counts = await callCounts(sbx, key);
    expect(counts.calls["eks:CreateCluster"] ?? 0, JSON.stringify(counts.calls)).toBe(0);
    expect(counts.calls["eks:DeleteCluster"] ?? 0, JSON.stringify(counts.calls)).toBeGreaterThan(0);
    expect(await clusters()).toEqual([`kc-${app}-blue`]);
    const records = await dnsRecords();
    expect(records[`kc-${app}-blue`]).toMatchObject({
      Weight: 100,
      ResourceRecords: [{ Value: await loadBalancerDns("blue") }],
    });
    expect(records[`kc-${app}-green`]).toBeUndefined();
    process.stderr.write(`update ${app} re-run after the kill: ${seconds.toFixed(1)}s\n`);
    // and history shows the killed run closed as interrupted, and the one that finished it
    const history = await kubecontrol(["history", app, "-o", "json"]);
    const runs = (
      JSON.parse(history.stdout) as { runs: { command: string; result: string; version: string }[] }
    ).runs;
    expect(runs.slice(0, 2)).toEqual([
      expect.objectContaining({ command: "update", result: "succeeded", version: first }),
      expect.objectContaining({ command: "update", result: "interrupted", version: first }),
    ]);
  }, 300_000);

  it("killed with --keep-old, is resumed with --keep-old: the old colour stays", async () => {
    // given an update to the second commit that keeps the old colour, killed just after the switch
    const killed = await kubecontrol(
      ["update", app, "--version", second, "--keep-old", "--drain", "0s", "--yes"],
      {
        env: { KUBECONTROL_FAILPOINTS: "switch-dns:after-apply" },
      },
    );
    expect(killed.signal, killed.stderr).toBe("SIGKILL");

    // when it is resumed
    const resumed = await kubecontrol(["resume", app, "--yes"]);

    // then resume continued it with the flags it had, and the old colour (blue) was kept
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /resuming update of \S+: run \S+ \((running|interrupted), version \w+, green, --keep-old --drain 0s\)/,
    );
    expect((await clusters()).sort()).toEqual([`kc-${app}-blue`, `kc-${app}-green`]);
    const records = await dnsRecords();
    expect(records[`kc-${app}-green`]?.Weight).toBe(100);
    expect(records[`kc-${app}-blue`]?.Weight).toBe(0);
  }, 300_000);
});
