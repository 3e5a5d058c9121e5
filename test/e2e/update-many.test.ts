import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject, removeApp, weightedRecords } from "../helpers/e2e-project.js";

// `kubecontrol update --all` as a real process over an apps directory of three apps, one of which
// fails its verification: the other two finish, each run under its own lease and history record,
// at once; the table and the exit code say which failed and how. The same with --json: each
// event carries its app, and the last document is the table.

let project: E2eProject;
let apps: string[];
/** The app whose checks cannot pass. */
let failing: string;
let first: string;
let second: string;

interface RunRow {
  id: string;
  command: string;
  result: string;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

async function lastRun(app: string): Promise<RunRow> {
  const h = await project.kubecontrol(["history", app, "-o", "json"]);
  return (JSON.parse(h.stdout) as { runs: RunRow[] }).runs[0]!;
}

async function weightsOf(app: string): Promise<Record<string, number | undefined>> {
  const sets = await weightedRecords(project.sbx, `${app}.example.com`);
  return Object.fromEntries(sets.map((s) => [s.SetIdentifier!.replace(`kc-${app}-`, ""), s.Weight]));
}

beforeAll(async () => {
  // given three apps in one apps directory: the project's own and two copies under other names
  project = await e2eProject("many");
  const specOf = (name: string) => path.join(project.root, "apps", `${name}.ts`);
  const text = readFileSync(specOf(project.app), "utf8");
  apps = [project.app, `${project.app}-b`, `${project.app}-c`];
  for (const name of apps.slice(1)) writeFileSync(specOf(name), text.replaceAll(project.app, name));
  failing = apps[2]!;
  first = project.git("rev-parse", "HEAD");
  second = project.commitChange("second version");
  // each created at the first commit (three processes at once)
  const created = await Promise.all(
    apps.map((a) => project.kubecontrol(["create", a, "--version", first, "--yes"])),
  );
  for (const c of created) if (c.status !== 0) throw new Error(`create failed: ${c.stderr}`);
  // and the third given an HTTP check that cannot pass (the app answers 200)
  writeFileSync(
    specOf(failing),
    readFileSync(specOf(failing), "utf8").replace(
      "  dns: {",
      `  deploy: { verify: { http: [{ service: "web", path: "/healthz", expectStatus: 418 }], timeout: "20s" } },\n  dns: {`,
    ),
  );
}, 600_000);

afterAll(async () => {
  const appsDir = path.join(project.root, "apps");
  await Promise.all(apps.slice(1).map((a) => removeApp(project.sbx, appsDir, a)));
  await project?.cleanup();
}, 300_000);

describe("update --all", () => {
  it("updates every app at once; one failing verification fails only that app, named in the table and the exit code", async () => {
    // when every app is updated to the second commit, three at once
    const run = await project.kubecontrol([
      "update",
      "--all",
      "--version",
      second,
      "--parallel",
      "3",
      "--yes",
    ]);

    // then the command exits 7: the one failed app's code
    expect(run.status, run.stderr).toBe(7);
    // and its table says which app failed and how, and that the other two succeeded
    const table = run.stderr.slice(run.stderr.lastIndexOf("APP "));
    expect(table).toMatch(/^APP\s+RESULT\s+EXIT\s+TIME\s+DETAIL/);
    for (const ok of apps.slice(0, 2))
      expect(table).toMatch(
        new RegExp(`\\n${ok}\\s+succeeded\\s+0\\s+\\S+\\s+updated to \\w+: green has all of DNS`),
      );
    expect(table).toMatch(
      new RegExp(
        `\\n${failing}\\s+failed\\s+7\\s+\\S+\\s+verification failed: GET http://${failing}.example.com/healthz`,
      ),
    );
    expect(table).toMatch(/2 of 3 app\(s\) succeeded/);
    expect(table).toMatch(new RegExp(`${failing}: hint: DNS was not changed`));
    // and each app's progress lines are marked with its name
    for (const a of apps) expect(run.stderr).toMatch(new RegExp(`Z ${a}: update ${a}: \\d+ steps`));

    // and DNS moved for the two that passed, not for the one that failed
    for (const ok of apps.slice(0, 2)) expect(await weightsOf(ok)).toEqual({ green: 100 });
    expect(await weightsOf(failing)).toEqual({ blue: 100 });

    // and each app ran under its own lease and record, all three at once
    const runs = await Promise.all(apps.map(lastRun));
    expect(runs.map((r) => [r.command, r.result])).toEqual([
      ["update", "succeeded"],
      ["update", "succeeded"],
      ["update", "failed"],
    ]);
    expect(runs[2]!.error).toMatch(/^VERIFY_FAILED: /);
    const lastStart = Math.max(...runs.map((r) => r.startedAt));
    const firstEnd = Math.min(...runs.map((r) => r.finishedAt!));
    expect(lastStart, "the three runs overlapped").toBeLessThan(firstEnd);
  }, 900_000);

  it("rollout takes several apps too: a dry run over all three says per app what would change", async () => {
    // when every app's rollout to the second commit is previewed
    const run = await project.kubecontrol(["--json", "rollout", "--all", "--version", second, "--dry-run"]);

    // then each app's dry run is a document of its own, and the table says all three ran
    expect(run.status, run.stderr).toBe(0);
    const docs = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const dryRuns = docs.filter((d) => d.type === "dry-run");
    expect(dryRuns.map((d) => d.app).sort()).toEqual([...apps].sort());
    // the two updated apps run the version already; the failed one is served by blue at the first
    expect(dryRuns.find((d) => d.app === failing)).toMatchObject({ colour: "blue" });
    expect((dryRuns.find((d) => d.app === failing)!.changes as unknown[]).length).toBeGreaterThan(0);
    for (const a of apps.slice(0, 2)) expect(dryRuns.find((d) => d.app === a)).toMatchObject({ changes: [] });
    expect(docs.at(-1)).toMatchObject({ type: "apps", command: "rollout", exitCode: 0 });
  }, 300_000);

  it("with --json, marks each event with its app and ends with the table as a document", async () => {
    // when the same update runs again with --json (two no-ops, the third fails again)
    const run = await project.kubecontrol(["--json", "update", "--all", "--version", second, "--yes"]);

    // then each line is one JSON document carrying its app
    expect(run.status, run.stderr).toBe(7);
    const docs = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = docs.filter((d) => typeof d.type === "string" && String(d.type).startsWith("step."));
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) expect(apps).toContain(e.app);
    for (const a of apps) expect(events.some((e) => e.app === a)).toBe(true);
    expect(docs).toContainEqual(
      expect.objectContaining({
        type: "error",
        app: failing,
        error: expect.objectContaining({ code: "VERIFY_FAILED" }),
      }),
    );
    // and the last is the table
    const table = docs.at(-1)!;
    expect(table).toMatchObject({ type: "apps", command: "update", exitCode: 7 });
    expect(
      (table.apps as { app: string; result: string; exitCode: number }[]).map((r) => [
        r.app,
        r.result,
        r.exitCode,
      ]),
    ).toEqual([
      [apps[0], "no-op", 0],
      [apps[1], "no-op", 0],
      [failing, "failed", 7],
    ]);
  }, 300_000);
});
