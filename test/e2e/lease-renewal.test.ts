import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import type { HistoryRun } from "../helpers/e2e-runs.js";
import { type PostgresServer, skipPostgres, startPostgres } from "../helpers/postgres.js";

// A renewal that fails for a moment (the shared PostgreSQL store restarting) does not lose a
// healthy run's lease: it is retried until the store answers again, and the lease stays the
// run's long after it would have expired without renewals. The run waits in its verify hook
// (which waits for the test's go-ahead) while the store goes down and comes back.

const LEASE = { KUBECONTROL_LOCK_TIMEOUT: "24s", KUBECONTROL_REQUEST_TIMEOUT: "5s" };

let pg: PostgresServer;
let store: string;
let p: E2eProject;
let started: string;
let release: string;

beforeAll(async () => {
  if (skipPostgres) return;
  pg = await startPostgres();
  store = await pg.createDatabase();
  p = await e2eProject("renew", (spec, app) =>
    spec.replace("  dns: {", `  deploy: { verify: { hook: "./${app}.verify.ts" } },\n  dns: {`),
  );
  started = path.join(p.root, "hook-started");
  release = path.join(p.root, "hook-release");
  writeFileSync(
    path.join(p.root, "apps", `${p.app}.verify.ts`),
    `import { existsSync, writeFileSync } from "node:fs";
export default async function verify(): Promise<void> {
  writeFileSync(${JSON.stringify(started)}, "1");
  const t0 = Date.now();
  while (!existsSync(${JSON.stringify(release)}) && Date.now() - t0 < 240_000) await new Promise((r) => setTimeout(r, 200));
}
`,
  );
}, 180_000);

afterAll(async () => {
  await p?.cleanup();
  await pg?.stop();
}, 180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipPostgres)("a renewal that fails for a moment", () => {
  it("does not lose a healthy run's lease", async () => {
    const env = { ...LEASE, KUBECONTROL_HISTORY_STORE: store };
    // given a create that holds its lease in the shared store, waiting in its verify hook
    const run = p.kubecontrol(["create", p.app, "--yes"], { env });
    const t0 = Date.now();
    while (!existsSync(started)) {
      if (Date.now() - t0 > 150_000) throw new Error("the verify hook never started");
      await sleep(100);
    }

    // when the store is down for 6s (renewals go every 4s: at least one fails)
    await pg.outage(6_000);
    // and the run goes on for longer than the lease would live without renewals
    await sleep(26_000);

    // then another run still finds the lease held by the first
    const second = await p.kubecontrol(["create", p.app, "--yes"], { env });
    expect(second.status, second.stderr).toBe(4);
    expect(second.stderr).toContain(`${p.app} is being deployed by`);

    // and the first finishes once its hook returns, having said that a renewal failed
    writeFileSync(release, "1");
    const first = await run;
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(new RegExp(`renewing the lease on ${p.app} failed .*; retrying`));
    expect(second.stderr).toContain(`(pid ${first.pid} on `);
    const history = JSON.parse((await p.kubecontrol(["history", p.app, "-o", "json"], { env })).stdout) as {
      runs: HistoryRun[];
    };
    expect(history.runs.find((r) => r.command === "create" && r.result === "succeeded")).toBeDefined();
  }, 300_000);
});
