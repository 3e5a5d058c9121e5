import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/history/sqlite-store.js";
import { kubecontrol } from "../helpers/cli.js";

const stateDir = path.join(mkdtempSync(path.join(tmpdir(), "kc-history-cli-")), "state");
const env = { KUBECONTROL_STATE_DIR: stateDir };
const HOUR = 3_600_000;

beforeAll(async () => {
  const store = await openSqliteStore(stateDir);
  const now = Date.now();
  for (const [id, app, result, ago] of [
    ["r1", "hello", "succeeded", 48],
    ["r2", "webapp", "failed", 5],
    ["r3", "hello", "succeeded", 1],
  ] as const) {
    const { lease } = await store.acquireLease(app, {
      owner: "alice@deploy-1",
      host: "deploy-1",
      pid: process.pid,
      ttlMs: 60_000,
    });
    const fence = { app, token: lease.token };
    await store.startRun(
      {
        id,
        app,
        command: "create",
        who: "alice@deploy-1",
        version: "0123456789abcdef0123",
        colour: "blue",
        planHash: null,
        startedAt: now - ago * HOUR,
      },
      fence,
    );
    await store.finishRun(
      id,
      result,
      result === "failed" ? "VERIFY_FAILED: pods not ready" : null,
      fence,
      now - ago * HOUR + 90_000,
    );
    await store.releaseLease(fence);
  }
  await store.close();
});

describe("kubecontrol history", () => {
  it("lists runs newest first, with duration and who ran them", () => {
    const r = kubecontrol(["history"], { env });
    expect(r.status).toBe(0);
    const [header, ...rows] = r.stdout.trim().split("\n");
    expect(header).toMatch(/^STARTED\s+APP\s+COMMAND\s+RESULT\s+DURATION\s+VERSION\s+COLOUR\s+WHO\s+RUN$/);
    expect(rows.map((l) => l.trim().split(/\s+/).at(-1))).toEqual(["r3", "r2", "r1"]);
    expect(rows[0]).toContain("1m30s");
    expect(rows[0]).toContain("alice@deploy-1");
  });

  it("filters by app, age and result", () => {
    const ids = (args: string[]) =>
      JSON.parse(kubecontrol(["history", ...args, "-o", "json"], { env }).stdout).runs.map(
        (r: { id: string }) => r.id,
      );
    expect(ids(["hello"])).toEqual(["r3", "r1"]);
    expect(ids(["--since", "24h"])).toEqual(["r3", "r2"]);
    expect(ids(["--result", "failed"])).toEqual(["r2"]);
  });

  it("exits 2 on a bad --since", () => {
    const r = kubecontrol(["history", "--since", "yesterday-ish"], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--since: expected a duration such as "24h"');
  });
});
