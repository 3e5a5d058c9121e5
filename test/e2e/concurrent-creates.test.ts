import { hostname, userInfo } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import {
  type CliRun,
  type HistoryRun,
  mutatingCalls,
  type PlanJson,
  resourceCounts,
  spawnCli,
} from "../helpers/e2e-runs.js";
import { type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: eight `kubecontrol create` processes of one app started at once against the
// sandbox. The lease is taken before preflight and before any AWS call that changes something
// (src/engine/workflows/recorded-run.ts); without --wait-lock a run that finds it held fails at
// once with LOCKED (exit 4) naming the holder. So exactly one acts. A process that only reached
// the lease after the winner had released it would take it and find everything in place: a
// no-op, exit 0, with no mutating call. Either way, one process changes AWS.

const PROCESSES = 8;

let sbx: TestSandbox;
let project: E2eProject;

function cli(args: string[], accessKeyId = testAccessKeyId()) {
  return spawnCli(args, { cwd: project.root, env: project.env, accessKeyId });
}

beforeAll(async () => {
  project = await e2eProject("hello");
  sbx = project.sbx;
}, 120_000);

afterAll(async () => {
  await project?.cleanup();
}, 120_000);

interface Contender {
  key: string;
  pid: number;
  run: CliRun;
}

const LOCKED =
  /error: (\S+) is being deployed by (\S+)@(\S+) \(pid (\d+) on (\S+)\) since (\d{4}-\d\d-\d\dT[\d:.]+Z)/;

describe("eight creates of one app at once", () => {
  let contenders: Contender[];
  let winner: Contender;
  let startedAt: number;
  /** When each refused run was told the winner had held the lease since. */
  const since: number[] = [];

  it("lets exactly one act; the others are refused the lease, naming the holder and since when", async () => {
    // given a fresh app; when eight creates start at once, each signing with its own key
    startedAt = Date.now();
    const started = Array.from({ length: PROCESSES }, () => {
      const key = testAccessKeyId();
      const { pid, done } = cli(["create", project.app, "--yes"], key);
      return { key, pid, done };
    });
    contenders = await Promise.all(started.map(async (s) => ({ key: s.key, pid: s.pid, run: await s.done })));
    const summary = contenders.map((c) => `pid ${c.pid}: exit ${c.run.status}\n${c.run.stderr.slice(-600)}`);

    // then exactly one created the app
    const created = contenders.filter((c) => c.run.status === 0 && /: created in /.test(c.run.stderr));
    expect(created, summary.join("\n---\n")).toHaveLength(1);
    winner = created[0]!;
    const others = contenders.filter((c) => c !== winner);

    // and every other one was either refused the lease (exit 4) while the winner held it, named
    // as user@host with its pid and since when, or came after it and changed nothing (exit 0)
    const me = `${userInfo().username}@${hostname()}`;
    for (const c of others) {
      const detail = `pid ${c.pid}: exit ${c.run.status}\n${c.run.stderr}`;
      if (c.run.status === 0) {
        // (its history run starts after the winner's ended, checked below; its calls, just after)
        expect(c.run.stderr, detail).toMatch(/already deployed, nothing changed/);
        continue;
      }
      expect(c.run.status, detail).toBe(4);
      const m = LOCKED.exec(c.run.stderr);
      expect(m, detail).not.toBeNull();
      const [, app, user, host, pid, on, at] = m!;
      expect(app).toBe(project.app);
      expect(`${user}@${host}`).toBe(me);
      expect(on).toBe(hostname());
      expect(Number(pid)).toBe(winner.pid);
      const sinceMs = Date.parse(at!);
      expect(sinceMs).toBeGreaterThanOrEqual(startedAt);
      expect(sinceMs).toBeLessThanOrEqual(winner.run.finishedAt);
      since.push(sinceMs);
      expect(c.run.stderr, detail).toMatch(/hint: wait for it to finish, or pass --wait-lock/);
    }
    const refused = others.filter((c) => c.run.status === 4).length;
    const noOps = others.filter((c) => c.run.status === 0).length;
    expect(refused + noOps).toBe(PROCESSES - 1);
    console.log(
      `concurrent creates: 1 created, ${refused} refused the lease (exit 4), ${noOps} no-op; winner took ${((winner.run.finishedAt - winner.run.startedAt) / 1000).toFixed(1)}s`,
    );

    // and only the winner's key made calls that change AWS
    const mutating = await Promise.all(
      contenders.map(async (c) => ({ c, calls: await mutatingCalls(sbx, c.key) })),
    );
    const actors = mutating.filter((m) => Object.keys(m.calls).length > 0);
    expect(
      actors.map((a) => a.c.pid),
      JSON.stringify(actors.map((a) => ({ pid: a.c.pid, calls: a.calls }))),
    ).toEqual([winner.pid]);
    expect(Object.keys(actors[0]!.calls)).toEqual(
      expect.arrayContaining(["eks:CreateCluster", "autoscaling:CreateAutoScalingGroup"]),
    );
  }, 180_000);

  it("records the runs as they happened: the winner's create, and only runs that took the lease", async () => {
    // when history is read as JSON
    const history = await cli(["history", project.app, "-o", "json"]).done;
    expect(history.status, history.stderr).toBe(0);
    const runs = (JSON.parse(history.stdout) as { runs: HistoryRun[] }).runs;
    // then there is one succeeded create by the winner's user, started once it held the lease
    // (refused runs record nothing), plus a no-op for each create that came after it
    const me = `${userInfo().username}@${hostname()}`;
    const noOps = contenders.filter((c) => c !== winner && c.run.status === 0).length;
    expect(runs.map((r) => `${r.command} ${r.result}`).sort()).toEqual(
      ["create succeeded", ...Array.from({ length: noOps }, () => "create no-op")].sort(),
    );
    const created = runs.find((r) => r.result === "succeeded")!;
    expect(created).toMatchObject({ app: project.app, who: me, colour: "blue" });
    expect(created.startedAt).toBeGreaterThanOrEqual(startedAt);
    expect(created.finishedAt).toBeLessThanOrEqual(winner.run.finishedAt);
    expect(winner.run.stderr).toContain(`(run ${created.id})`);
    // and the refused runs were all told of one lease, taken just before the winner's run began
    expect(new Set(since).size).toBeLessThanOrEqual(1);
    for (const at of since) {
      expect(at).toBeLessThanOrEqual(created.startedAt);
      expect(created.startedAt - at).toBeLessThan(5_000);
    }
    for (const r of runs.filter((x) => x.result === "no-op"))
      expect(r.startedAt).toBeGreaterThan(created.finishedAt!);
  }, 60_000);

  it("left exactly one of each resource the plan names", async () => {
    // given the plan of the app; when the sandbox is asked for each resource with the AWS CLI
    const plan = await cli(["plan", project.app, "-o", "json"]).done;
    expect(plan.status, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout) as PlanJson;
    const counts = await resourceCounts(sbx, planned);
    // then each logical resource exists once: one cluster, one ASG, one load balancer, one listener...
    expect(counts).toEqual(Object.fromEntries(planned.aws.map((r) => [r.id, 1])));
    expect(Object.keys(counts)).toEqual(
      expect.arrayContaining([
        "eks-cluster/main",
        "auto-scaling-group/general",
        "load-balancer/main",
        "listener/80",
        "target-group/web",
        "route53-record/main",
      ]),
    );
  }, 60_000);

  it("tears the colour down", async () => {
    // when the app's colour is torn down (forced: DNS points at it), then it succeeds
    const done = await cli(["teardown", project.app, "--colour", "blue", "--force", "--yes"]).done;
    expect(done.status, done.stderr).toBe(0);
    // and its cluster is gone (the rest of a teardown is create-hello's to check; app-scoped
    // resources go in the clean-up)
    const clusters = (await awsCli(sbx, ["eks", "list-clusters"])) as { clusters: string[] };
    expect(clusters.clusters).not.toContain(`kc-${project.app}-blue`);
  }, 60_000);
});
