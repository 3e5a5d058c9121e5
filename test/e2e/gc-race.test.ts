import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";

// gc racing an update of the same app, both real CLI processes: whichever holds the app's lease,
// the other waits (--wait-lock) or exits 4, and gc never removes the colour an update builds or
// has just switched to. The spec keeps the old colour 1s, so gc has something to remove.

let p: E2eProject;
const versions: string[] = [];

async function weights(): Promise<Record<string, number | undefined>> {
  const sets = await weightedRecords(p.sbx, `${p.app}.example.com`);
  const of = (c: string) => sets.find((s) => s.SetIdentifier === `kc-${p.app}-${c}`)?.Weight;
  return { blue: of("blue"), green: of("green") };
}

async function stands(colour: string): Promise<boolean> {
  const { clusters } = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
  return clusters.includes(`kc-${p.app}-${colour}`);
}

/** Starts `first`; once it holds the lease (its run started), starts `second`; both results. */
async function race(first: string[], second: string[]) {
  let started: () => void = () => {};
  const holding = new Promise<void>((r) => {
    started = r;
  });
  const a = p.kubecontrol(first, { onStderr: (t) => /steps \(run /.test(t) && started() });
  await Promise.race([holding, a]);
  const b = p.kubecontrol(second);
  return { first: await a, second: await b };
}

beforeAll(async () => {
  p = await e2eProject("gcrace");
  p.writeSpec((s) => s.replace("  dns: {", `  deploy: { keepOldColourFor: "1s" },\n  dns: {`));
  versions.push(p.git("rev-parse", "HEAD"));
  for (const n of [2, 3, 4]) versions.push(p.commitChange(`version ${n}`));
  const created = await p.kubecontrol(["create", p.app, "--version", versions[0]!, "--yes"]);
  expect(created.status, created.stderr).toBe(0);
  // green serves, blue kept for 1s
  const updated = await p.kubecontrol(["update", p.app, "--version", versions[1]!, "--yes"]);
  expect(updated.status, updated.stderr).toBe(0);
  await new Promise((r) => setTimeout(r, 1500));
}, 600_000);

afterAll(() => p?.cleanup(), 240_000);

describe("gc and update of one app at once", () => {
  it("gc started while update rebuilds the expired kept colour waits, then leaves the colour update switched to", async () => {
    const listed = await p.kubecontrol(["gc", p.app, "--dry-run"]);
    expect(listed.stderr).toMatch(new RegExp(`${p.app}\\s+blue\\s+remove`));
    const { first: update, second: gc } = await race(
      ["update", p.app, "--version", versions[2]!, "--yes"],
      ["gc", p.app, "--yes", "--wait-lock", "10m"],
    );
    expect(update.status, update.stderr).toBe(0);
    expect(gc.status, gc.stderr).toBe(0);
    // blue was rebuilt and serves: gc, deciding again under the lease, kept it
    expect(await stands("blue")).toBe(true);
    expect((await weights()).blue).toBe(100);
  }, 600_000);

  it("update started while gc removes a colour waits for it, then builds and switches", async () => {
    // blue serves at version 3; green is the kept one (1s), or gc removed it above
    let next = versions[3]!;
    if (!(await stands("green"))) {
      // build green again so gc has a colour to remove while the update waits
      const u = await p.kubecontrol(["update", p.app, "--version", versions[3]!, "--yes"]);
      expect(u.status, u.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 1500));
      next = versions[1]!;
    }
    const live = (await weights()).blue === 100 ? "blue" : "green";
    const kept = live === "blue" ? "green" : "blue";
    const { first: gc, second: update } = await race(
      ["gc", p.app, "--yes"],
      ["update", p.app, "--version", next, "--yes", "--wait-lock", "10m"],
    );
    expect(gc.status, gc.stderr).toBe(0);
    expect(update.status, update.stderr).toBe(0);
    // the update built the colour gc removed, and moved DNS to it
    expect(await stands(kept)).toBe(true);
    expect((await weights())[kept]).toBe(100);
    const history = await p.kubecontrol(["history", p.app, "-o", "json"]);
    const runs = (JSON.parse(history.stdout) as { runs: { command: string; result: string }[] }).runs;
    expect(runs.slice(0, 2).map((r) => `${r.command} ${r.result}`)).toEqual([
      "update succeeded",
      "gc succeeded",
    ]);
  }, 900_000);

  it("without --wait-lock the one that finds the lease held exits 4 and changes nothing", async () => {
    const before = await weights();
    const { first: update, second: gc } = await race(
      ["update", p.app, "--version", versions[2]!, "--yes"],
      ["gc", p.app, "--yes"],
    );
    expect(update.status, update.stderr).toBe(0);
    // gc lists first (no lease) and then finds the lease held, or has nothing to remove
    expect([0, 4], gc.stderr).toContain(gc.status);
    if (gc.status === 4) expect(gc.stderr).toMatch(/lease|held|locked/i);
    expect(await weights()).not.toEqual(before);
  }, 600_000);
});
