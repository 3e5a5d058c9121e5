import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";
import {
  accountFaults,
  addFaults,
  type CrashRow,
  callLog,
  clearFaults,
  counts,
  crashMatrix,
  history,
  overlapping,
  plansOf,
  releaseTogether,
  stormRules,
  unclosed,
} from "./harness.js";

// The reliability harness, short form (the full form is `npm run reliability`, bench/reliability.ts):
// every command that changes an app killed at a seeded sample of the failpoints it reaches (found
// from its own output, never from a list), at a random time, and continued by running it again
// or by `resume`; mixed commands released together on one app; create and teardown under an AWS
// storm. Afterwards the AWS CLI finds exactly one of each resource (none after teardown and
// destroy) and history holds every run, closed.

const SEED = process.env.KUBECONTROL_RELIABILITY_SEED ?? "short";
const ones = (c: Record<string, number>) => Object.fromEntries(Object.keys(c).map((id) => [id, 1]));
const zeros = (c: Record<string, number>) => Object.fromEntries(Object.keys(c).map((id) => [id, 0]));

describe("the reliability harness, short form", () => {
  let p: E2eProject;
  beforeAll(async () => {
    p = await e2eProject("rel");
  }, 120_000);
  afterAll(() => p?.cleanup(), 240_000);

  it("kills create, update, rollout, teardown and destroy anywhere; each re-run finishes, with one of everything and every run closed", async () => {
    const plans = await plansOf(p);
    const rows: CrashRow[] = [];
    const matrix = async (args: string[]) => {
      const row = await crashMatrix(p, args, {
        seed: SEED,
        randomKills: 1,
        randomWithinMs: 3_000,
        every: 12,
        resume: true,
      });
      rows.push(row);
      return row;
    };

    // create: blue, and what the app's colours share
    const create = await matrix(["create", p.app, "--yes"]);
    expect(create.points.length, "create reached a failpoint").toBeGreaterThan(0);
    const blueAll = await counts(p, plans.blue, "all");
    expect(blueAll).toEqual(ones(blueAll));

    // update to a new version: green made, DNS switched, blue removed
    const v2 = p.commitChange("v2");
    await matrix(["update", p.app, "--version", v2, "--drain", "0s", "--yes"]);
    const greenAll = await counts(p, plans.green, "all");
    expect(greenAll).toEqual(ones(greenAll));
    const blueColour = await counts(p, plans.blue, "colour");
    expect(blueColour).toEqual(zeros(blueColour));

    // rollout of green in place
    const v3 = p.commitChange("v3");
    await matrix(["rollout", p.app, "--version", v3, "--yes"]);
    expect(await counts(p, plans.green, "all")).toEqual(greenAll);

    // teardown of a colour kept by update --keep-old
    const kept = await p.kubecontrol([
      "update",
      p.app,
      "--version",
      p.commitChange("v4"),
      "--keep-old",
      "--yes",
    ]);
    expect(kept.status, kept.stderr).toBe(0);
    await matrix(["teardown", p.app, "--colour", "green", "--yes"]);
    expect(await counts(p, plans.green, "colour")).toEqual(zeros(await counts(p, plans.green, "colour")));
    expect(await counts(p, plans.blue, "all")).toEqual(blueAll);

    // destroy: nothing of the app is left
    await matrix(["destroy", p.app, "--yes"]);
    expect(await counts(p, plans.blue, "all")).toEqual(zeros(blueAll));

    // and history holds every run that got as far as recording itself, each closed, none at once
    const runs = await history(p);
    expect(unclosed(runs)).toEqual([]);
    expect(overlapping(runs)).toBeUndefined();
    const killedAtPoints = rows.reduce((n, r) => n + r.points.length, 0);
    expect(runs.filter((r) => r.result === "interrupted").length).toBeGreaterThanOrEqual(killedAtPoints);
    expect(runs.length).toBeLessThanOrEqual(rows.reduce((n, r) => n + r.runs, 0) + 1);
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    if (process.env.KC_TEST_SHOW_OUTPUT)
      console.log(rows.map((r) => `${r.command}: ${r.runs} runs, ${r.points.join(" ")}`).join("\n"));
  }, 900_000);
});

describe("contention on one app", () => {
  let p: E2eProject;
  beforeAll(async () => {
    p = await e2eProject("rel-lock");
    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
  }, 180_000);
  afterAll(() => p?.cleanup(), 240_000);

  it("eight mixed commands released together: exactly one acts, the others exit 4 having changed nothing", async () => {
    const v2 = p.commitChange("v2");
    const commands = [
      ["update", p.app, "--version", v2, "--drain", "0s", "--yes"],
      ["update", p.app, "--version", v2, "--drain", "0s", "--yes"],
      ["update", p.app, "--version", v2, "--keep-old", "--drain", "0s", "--yes"],
      ["rollout", p.app, "--version", v2, "--yes"],
      ["rollout", p.app, "--version", v2, "--yes"],
      ["rollout", p.app, "--version", v2, "--yes"],
      ["rollout", p.app, "--version", v2, "--yes"],
      ["update", p.app, "--version", v2, "--keep-old", "--yes"],
    ];
    const before = (await history(p)).length;
    const round = await releaseTogether(p, commands);
    // then one ran (recorded, succeeded) and seven were refused the lease, changing nothing
    const ran = round.filter((c) => c.status !== 4);
    expect(
      ran.map((c) => `${c.status} ${c.args.join(" ")}`),
      round.map((c) => `${c.status} ${c.args[0]}: ${c.run.stderr.slice(-300)}`).join("\n"),
    ).toHaveLength(1);
    expect(ran[0]!.status, ran[0]!.run.stderr).toBe(0);
    for (const loser of round.filter((c) => c.status === 4)) {
      expect(loser.acted, `${loser.args.join(" ")} changed AWS`).toBe(false);
      expect(loser.run.stderr).toMatch(/is being deployed by .* since/);
    }
    const runs = await history(p);
    expect(runs.slice(before).map((r) => [r.command, r.result])).toEqual([[ran[0]!.args[0], "succeeded"]]);
    expect(overlapping(runs)).toBeUndefined();
  }, 300_000);

  it("with --wait-lock they take turns: every one finishes, one at a time, and only the first changes anything", async () => {
    const v3 = p.commitChange("v3");
    const commands = Array.from({ length: 4 }, () => [
      "rollout",
      p.app,
      "--version",
      v3,
      "--yes",
      "--wait-lock",
      "4m",
    ]);
    const before = (await history(p)).length;
    const round = await releaseTogether(p, commands);
    for (const c of round) expect(c.status, c.run.stderr).toBe(0);
    const runs = await history(p);
    expect(runs.slice(before).map((r) => r.result)).toEqual(["succeeded", "no-op", "no-op", "no-op"]);
    expect(unclosed(runs)).toEqual([]);
    expect(overlapping(runs)).toBeUndefined();
  }, 300_000);

  it("a holder killed with -9 is taken over at once by the next run, which closes its run as interrupted", async () => {
    const v4 = p.commitChange("v4");
    const args = ["rollout", p.app, "--version", v4, "--yes"];
    const killed = await p.kubecontrol(args, { env: { KUBECONTROL_FAILPOINTS: "*:after-apply" } });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const t0 = Date.now();
    const next = await p.kubecontrol(args);
    expect(next.status, next.stderr).toBe(0);
    expect(next.finishedAt - t0).toBeLessThan(120_000);
    const [last, before] = (await history(p)).reverse();
    expect(last).toMatchObject({ command: "rollout", result: "succeeded" });
    expect(before).toMatchObject({ command: "rollout", result: "interrupted" });
  }, 300_000);
});

describe("an AWS storm", () => {
  let p: E2eProject;
  beforeAll(async () => {
    p = await e2eProject("rel-storm");
  }, 120_000);
  afterAll(() => p?.cleanup(), 240_000);

  it("create and teardown under 20% mixed faults finish, with one of everything, and every fault accounted for", async () => {
    const plans = await plansOf(p);
    for (const [args, expected] of [
      [["create", p.app, "--yes"], 1],
      [["teardown", p.app, "--colour", "blue", "--force", "--yes"], 0],
    ] as const) {
      const key = testAccessKeyId();
      await addFaults(p, stormRules(key, `${SEED}-${args[0]}`));
      try {
        // a run that hangs ends with its log, well inside the test's timeout
        const r = await spawnCli([...args], { cwd: p.root, env: p.env, accessKeyId: key, timeoutMs: 150_000 })
          .done;
        expect(r.status, r.stderr).toBe(0);
        const log = await callLog(p, key);
        const faults = accountFaults(log);
        expect(faults.length, "the storm hit this run").toBeGreaterThan(3);
        expect(faults.filter((f) => f.outcome === "unaccounted")).toEqual([]);
      } finally {
        await clearFaults(p, key);
      }
      const seen = await counts(p, plans.blue, "colour");
      expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((id) => [id, expected])));
    }
  }, 420_000);
});
