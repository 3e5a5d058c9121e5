import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { judgedByMarker } from "../helpers/judged-by-marker.js";

// A switch killed between its DNS change and `mark-retention`: the colour that gained DNS still
// carries the mark it had while kept, the colour that lost DNS carries none. Whatever an operator
// does next (gc, a refused switch back, a switch back, resume), gc must not remove the colour that
// just lost DNS before its retention has passed. Each run is the CLI as a process.

let p: E2eProject;
let first: string;
let second: string;
const KILL = { KUBECONTROL_FAILPOINTS: "switch-dns:after-journal" };
/** gc would remove an idle colour that never served at once. */
const EAGER_GC = { KUBECONTROL_GC_IDLE_AFTER: "1s" };
const failMarker = (colour: string) => path.join(p.root, `fail-${colour}`);

async function weights(): Promise<Record<string, number | undefined>> {
  const sets = await weightedRecords(p.sbx, `${p.app}.example.com`);
  const of = (c: string) => sets.find((s) => s.SetIdentifier === `kc-${p.app}-${c}`)?.Weight;
  return { blue: of("blue"), green: of("green") };
}

async function clusterTags(colour: string): Promise<Record<string, string> | undefined> {
  const { clusters } = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
  const name = `kc-${p.app}-${colour}`;
  if (!clusters.includes(name)) return undefined;
  const d = (await awsCli(p.sbx, ["eks", "describe-cluster", "--name", name])) as {
    cluster: { tags?: Record<string, string> };
  };
  return d.cluster.tags ?? {};
}

/** gc's listing row for a colour (dry run). */
async function gcRow(colour: string): Promise<string> {
  const r = await p.kubecontrol(["gc", p.app, "--dry-run"], { env: EAGER_GC });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split("\n").find((l) => new RegExp(`${p.app}\\s+${colour}\\s`).test(l)) ?? "";
}

beforeAll(async () => {
  p = await e2eProject("swkill");
  // The hook fails for a colour while its marker file exists: a judgement the test controls.
  judgedByMarker(p, "20s");
  first = p.git("rev-parse", "HEAD");
  second = p.commitChange("second version");
  const created = await p.kubecontrol(["create", p.app, "--version", first, "--yes"]);
  expect(created.status, created.stderr).toBe(0);
  const updated = await p.kubecontrol(["update", p.app, "--version", second, "--yes"]);
  expect(updated.status, updated.stderr).toBe(0);
}, 600_000);

afterAll(() => p?.cleanup(), 240_000);

describe("a switch killed after its DNS change", () => {
  it("leaves the colour it left unmarked, and gc keeps it", async () => {
    const killed = await p.kubecontrol(["switch", p.app, "--to", "blue", "--yes"], { env: KILL });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // the kill came before mark-retention: blue keeps the mark of its retirement, green has none
    expect(await clusterTags("blue")).toHaveProperty("kubecontrol:kept-until");
    expect(await clusterTags("green")).not.toHaveProperty("kubecontrol:kept-until");
    expect(await gcRow("green")).toMatch(/keep\s+served before/);
  }, 240_000);

  it("a refused switch back does not make gc forget that the colour served", async () => {
    writeFileSync(failMarker("green"), "");
    try {
      const refused = await p.kubecontrol(["switch", p.app, "--to", "green", "--yes"]);
      expect(refused.status, refused.stderr).toBe(7);
    } finally {
      rmSync(failMarker("green"), { force: true });
    }
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // green served (update) and has not been rebuilt since: gc must keep it
    expect(await gcRow("green")).toMatch(/\skeep\s/);
  }, 240_000);

  it("a switch back after the stale mark expired keeps the colour it left for its whole retention", async () => {
    const stale = Date.parse((await clusterTags("blue"))!["kubecontrol:kept-until"]!);
    await new Promise((r) => setTimeout(r, Math.max(0, stale - Date.now()) + 1000));
    const back = await p.kubecontrol(["switch", p.app, "--to", "green", "--yes"]);
    expect(back.status, back.stderr).toBe(0);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    // blue just lost DNS: kept for keepOldColourFor from now, not by the mark of an earlier retirement
    const until = Date.parse((await clusterTags("blue"))!["kubecontrol:kept-until"]!);
    expect(until).toBeGreaterThan(Date.now());
    expect(await gcRow("blue")).toMatch(/keep\s+kept until/);
  }, 240_000);

  it("resume finishes the marking of a killed switch", async () => {
    const killed = await p.kubecontrol(["switch", p.app, "--to", "blue", "--yes"], { env: KILL });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    const resumed = await p.kubecontrol(["resume", p.app, "--yes"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(await clusterTags("blue")).not.toHaveProperty("kubecontrol:kept-until");
    const until = Date.parse((await clusterTags("green"))!["kubecontrol:kept-until"]!);
    expect(until).toBeGreaterThan(Date.now());
    const history = await p.kubecontrol(["history", p.app, "-o", "json"]);
    const runs = (JSON.parse(history.stdout) as { runs: { command: string; result: string }[] }).runs;
    expect(runs.filter((r) => r.command === "switch").map((r) => r.result)).not.toContain("running");
  }, 240_000);

  it("a switch back while the stale mark still runs keeps the colour it left for the whole retention", async () => {
    // green is kept (20s) from the resumed switch; killed again, green serves carrying that mark
    const killed = await p.kubecontrol(["switch", p.app, "--to", "green", "--yes"], { env: KILL });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const stale = Date.parse((await clusterTags("green"))!["kubecontrol:kept-until"]!);
    expect(stale).toBeGreaterThan(Date.now());
    const started = Date.now();
    const back = await p.kubecontrol(["switch", p.app, "--to", "blue", "--yes"]);
    expect(back.status, back.stderr).toBe(0);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // kept for keepOldColourFor (20s) from this switch, not until the earlier retirement's end
    const until = Date.parse((await clusterTags("green"))!["kubecontrol:kept-until"]!);
    expect(until).toBeGreaterThanOrEqual(started + 20_000);
  }, 240_000);
});
