import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { judgedByMarker } from "../helpers/judged-by-marker.js";
import { callCounts, testAccessKeyId } from "../helpers/sandbox.js";

// Operating blue/green without another deployment: `update --keep-old` keeps the old colour,
// `switch` moves all of DNS back and forth between colours that stand (after judging the one it
// moves to), and `gc` removes a kept colour once its retention has passed, never one with
// weight. Each run is the CLI as a process; weights and tags are read back with the AWS CLI.

let p: E2eProject;
let first: string;
let second: string;
/** While this file exists the spec's verify hook fails for the colour it names. */
const failMarker = (colour: string) => path.join(p.root, `fail-${colour}`);

/** Each colour's weight, read with the AWS CLI. */
async function weights(): Promise<Record<string, number | undefined>> {
  const sets = await weightedRecords(p.sbx, `${p.app}.example.com`);
  const of = (c: string) => sets.find((s) => s.SetIdentifier === `kc-${p.app}-${c}`)?.Weight;
  return { blue: of("blue"), green: of("green") };
}

/** A colour's cluster tags, or undefined when it has no cluster. */
async function clusterTags(colour: string): Promise<Record<string, string> | undefined> {
  const { clusters } = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
  const name = `kc-${p.app}-${colour}`;
  if (!clusters.includes(name)) return undefined;
  const d = (await awsCli(p.sbx, ["eks", "describe-cluster", "--name", name])) as {
    cluster: { tags?: Record<string, string> };
  };
  return d.cluster.tags ?? {};
}

beforeAll(async () => {
  p = await e2eProject("swgc");
  // The hook fails for a colour while its marker file exists: a judgement the test controls.
  judgedByMarker(p, "45s");
  first = p.git("rev-parse", "HEAD");
  second = p.commitChange("second version");
}, 120_000);

afterAll(() => p?.cleanup(), 240_000);

describe("update --keep-old, switch and gc", () => {
  it("keeps the old colour with --keep-old, marked kept with no expiry", async () => {
    const created = await p.kubecontrol(["create", p.app, "--version", first, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const updated = await p.kubecontrol(["update", p.app, "--version", second, "--keep-old", "--yes"]);
    expect(updated.status, updated.stderr).toBe(0);
    expect(updated.stderr).toMatch(
      /green has all of DNS \(was blue\), blue kept at weight 0 \(remove it with teardown\)/,
    );
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    expect(await clusterTags("blue")).toMatchObject({ "kubecontrol:kept-until": "forever" });
    expect(await clusterTags("green")).not.toHaveProperty("kubecontrol:kept-until");
  }, 420_000);

  it("switches back to blue and forward to green, in one change each; kubeconfig follows the live colour; gc keeps the colour just left", async () => {
    const back = await p.kubecontrol(["switch", p.app, "--to", "blue", "--yes"]);
    expect(back.status, back.stderr).toBe(0);
    expect(back.stderr).toMatch(/blue has all of DNS \(\w{12}\); green kept at weight 0/);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // the colour that serves carries no mark; the one left is kept for keepOldColourFor
    expect(await clusterTags("blue")).not.toHaveProperty("kubecontrol:kept-until");
    const until = Date.parse((await clusterTags("green"))!["kubecontrol:kept-until"]!);
    expect(until - Date.now()).toBeGreaterThan(0);
    expect(until - Date.now()).toBeLessThanOrEqual(45_000);

    const kubeconfig = await p.kubecontrol(["kubeconfig", p.app]);
    expect(kubeconfig.status, kubeconfig.stderr).toBe(0);
    expect(parse(kubeconfig.stdout)["current-context"]).toBe(`kc-${p.app}-blue`);

    const forward = await p.kubecontrol(["switch", p.app, "--to", "green", "--yes"]);
    expect(forward.status, forward.stderr).toBe(0);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    // blue, just left, is kept for 45s: gc lists it and removes nothing
    const early = await p.kubecontrol(["gc", p.app, "--dry-run"]);
    expect(early.status, early.stderr).toBe(0);
    expect(early.stderr).toMatch(new RegExp(`${p.app}\\s+blue\\s+keep\\s+kept until`));
    expect(early.stderr).toMatch(new RegExp(`${p.app}\\s+green\\s+keep\\s+live`));
    expect(early.stderr).toMatch(/nothing to remove/);
    // again: a no-op that changes no record
    const key = testAccessKeyId();
    const again = await p.kubecontrol(["switch", p.app, "--to", "green", "--yes"], { accessKeyId: key });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/green already has all of DNS/);
    expect((await callCounts(p.sbx, key)).calls["route53:ChangeResourceRecordSets"] ?? 0).toBe(0);
  }, 300_000);

  it("refuses to switch to a colour that fails its judgement (exit 7), changing nothing", async () => {
    writeFileSync(failMarker("blue"), "");
    try {
      const key = testAccessKeyId();
      const r = await p.kubecontrol(["switch", p.app, "--to", "blue", "--yes"], { accessKeyId: key });
      expect(r.status, r.stderr).toBe(7);
      expect(r.stderr).toMatch(/blue is marked bad/);
      expect(r.stderr).toMatch(/hint: DNS was not changed/);
      expect(await weights()).toEqual({ blue: 0, green: 100 });
      const { calls } = await callCounts(p.sbx, key);
      expect(calls["route53:ChangeResourceRecordSets"] ?? 0).toBe(0);
      expect(calls["eks:TagResource"] ?? 0).toBe(0);
    } finally {
      rmSync(failMarker("blue"), { force: true });
    }
  }, 180_000);

  it("refuses a colour that does not stand (exit 8)", async () => {
    const other = await e2eProject("swgc-none");
    try {
      const r = await other.kubecontrol(["switch", other.app, "--to", "green", "--yes"]);
      expect(r.status, r.stderr).toBe(8);
      expect(r.stderr).toMatch(/green colour does not stand: it has no cluster/);
    } finally {
      await other.cleanup();
    }
  }, 120_000);

  it("gc removes blue once its retention has passed, and nothing else; green, with weight, stays", async () => {
    const until = Date.parse((await clusterTags("blue"))!["kubecontrol:kept-until"]!);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 1000));

    const listed = await p.kubecontrol(["gc", p.app, "--dry-run"]);
    expect(listed.stderr).toMatch(new RegExp(`${p.app}\\s+blue\\s+remove\\s+kept until .* ago`));
    expect(await clusterTags("blue")).toBeDefined();

    const gc = await p.kubecontrol(["gc", p.app, "--yes"]);
    expect(gc.status, gc.stderr).toBe(0);
    expect(await clusterTags("blue")).toBeUndefined();
    expect(await clusterTags("green")).toBeDefined();
    expect(await weights()).toEqual({ blue: undefined, green: 100 });
    // the app-scoped resources stay
    const repos = (await awsCli(p.sbx, ["ecr", "describe-repositories"])) as {
      repositories: { repositoryName: string }[];
    };
    expect(repos.repositories.map((r) => r.repositoryName)).toContain(p.app);

    // recorded in history as a gc run
    const history = await p.kubecontrol(["history", p.app, "-o", "json"]);
    const runs = JSON.parse(history.stdout) as { runs: { command: string; result: string }[] };
    expect(runs.runs[0]).toMatchObject({ command: "gc", result: "succeeded" });

    // and now there is nothing left to collect
    const again = await p.kubecontrol(["gc", p.app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing to remove/);
    expect(existsSync(failMarker("blue"))).toBe(false);
  }, 420_000);
});
