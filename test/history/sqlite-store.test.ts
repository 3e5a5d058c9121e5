import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KubecontrolError } from "../../src/errors.js";
import { holdLease } from "../../src/history/lease.js";
import { openSqliteStore } from "../../src/history/sqlite-store.js";
import type { HistoryStore } from "../../src/history/types.js";
import { repoRoot } from "../helpers/apps.js";

const stores: HistoryStore[] = [];
async function freshStore(): Promise<{ store: HistoryStore; dir: string }> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "kc-history-")), "state");
  const store = await openSqliteStore(dir);
  stores.push(store);
  return { store, dir };
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const owner = (name: string, pid = process.pid, host = "deploy-1") => ({
  owner: name,
  host,
  pid,
  ttlMs: 60_000,
});

/** A pid that certainly belongs to no running process: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "0"]).pid!;
}

describe("the SQLite store", () => {
  it("keeps files off-limits to others, in a setgid directory", async () => {
    const { store, dir } = await freshStore();
    const { lease } = await store.acquireLease("hello", owner("alice@deploy-1"));
    await store.startRun(
      {
        id: "r1",
        app: "hello",
        command: "create",
        who: "alice@deploy-1",
        version: "abc",
        colour: "blue",
        planHash: null,
        startedAt: 1,
      },
      { app: "hello", token: lease.token },
    );
    expect(statSync(dir).mode & 0o7777).toBe(0o2770);
    for (const f of ["kubecontrol.db", "kubecontrol.db-wal", "kubecontrol.db-shm"]) {
      expect((statSync(path.join(dir, f)).mode & 0o777).toString(8), f).toBe("660");
    }
  });

  it("records runs and their steps, and filters them", async () => {
    const { store } = await freshStore();
    const { lease } = await store.acquireLease("hello", owner("alice@deploy-1"));
    const fence = { app: "hello", token: lease.token };
    await store.startRun(
      {
        id: "r1",
        app: "hello",
        command: "create",
        who: "alice@deploy-1",
        version: "abc",
        colour: "blue",
        planHash: "h1",
        startedAt: 1000,
      },
      fence,
    );
    await store.recordStep(
      {
        runId: "r1",
        step: "ensureCluster",
        status: "running",
        startedAt: 1001,
        finishedAt: null,
        changed: false,
        output: null,
        error: null,
      },
      fence,
    );
    await store.recordStep(
      {
        runId: "r1",
        step: "ensureCluster",
        status: "succeeded",
        startedAt: 1001,
        finishedAt: 1500,
        changed: true,
        output: '{"arn":"x"}',
        error: null,
      },
      fence,
    );
    await store.finishRun("r1", "succeeded", null, fence, 2000);
    await store.startRun(
      {
        id: "r2",
        app: "hello",
        command: "rollout",
        who: "bob@deploy-1",
        version: "def",
        colour: "blue",
        planHash: "h2",
        startedAt: 3000,
      },
      fence,
    );
    await store.finishRun("r2", "failed", "STEP_FAILED: boom", fence, 3500);

    expect((await store.listRuns({ app: "hello" })).map((r) => r.id)).toEqual(["r2", "r1"]);
    expect((await store.listRuns({ result: "failed" })).map((r) => r.id)).toEqual(["r2"]);
    expect((await store.listRuns({ since: 2500 })).map((r) => r.id)).toEqual(["r2"]);
    const r1 = await store.getRun("r1");
    expect(r1?.run).toMatchObject({ result: "succeeded", finishedAt: 2000, planHash: "h1" });
    expect(r1?.steps).toEqual([
      {
        runId: "r1",
        step: "ensureCluster",
        status: "succeeded",
        startedAt: 1001,
        finishedAt: 1500,
        changed: true,
        output: '{"arn":"x"}',
        error: null,
      },
    ]);
  });
});

describe("leases", () => {
  it("refuses a second writer, naming the holder and since when", async () => {
    const { store } = await freshStore();
    await store.acquireLease("hello", owner("alice@deploy-1", process.pid));
    const err = await store
      .acquireLease("hello", owner("bob@deploy-1", process.ppid))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubecontrolError);
    expect((err as KubecontrolError).code).toBe("LOCKED");
    expect((err as KubecontrolError).message).toMatch(
      /^hello is being deployed by alice@deploy-1 \(pid \d+ on deploy-1\) since \d{4}-/,
    );
  });

  it("takes over at once when the holder's process is gone on the same host, and records it", async () => {
    const { store } = await freshStore();
    const dead = deadPid();
    const first = await store.acquireLease("hello", owner("alice@deploy-1", dead));
    const second = await store.acquireLease("hello", owner("bob@deploy-1"));
    expect(second.tookOverFrom?.owner).toBe("alice@deploy-1");
    expect(second.lease.token).toBe(first.lease.token + 1);
    const log = (
      store as unknown as { leaseLog(app: string): { event: string; detail: string | null }[] }
    ).leaseLog("hello");
    expect(log.map((l) => l.event)).toEqual(["acquired", "took-over"]);
    expect(log[1]!.detail).toContain("owner no longer running");
  });

  it("waits for expiry when the holder is on another host", async () => {
    const { store } = await freshStore();
    await store.acquireLease("hello", {
      ...owner("alice@deploy-2", deadPid(), "deploy-2"),
      now: 1000,
      ttlMs: 5000,
    });
    await expect(store.acquireLease("hello", { ...owner("bob@deploy-1"), now: 3000 })).rejects.toThrow(
      /being deployed by alice/,
    );
    const taken = await store.acquireLease("hello", { ...owner("bob@deploy-1"), now: 6001 });
    expect(taken.tookOverFrom?.owner).toBe("alice@deploy-2");
  });

  it("refuses the writes of a paused owner whose lease was taken over", async () => {
    const { store } = await freshStore();
    const old = await store.acquireLease("hello", {
      ...owner("alice@deploy-1", process.pid),
      now: 0,
      ttlMs: 1000,
    });
    await store.acquireLease("hello", { ...owner("bob@deploy-1", process.ppid), now: 5000 });
    const fence = { app: "hello", token: old.lease.token };
    await expect(
      store.startRun(
        {
          id: "late",
          app: "hello",
          command: "create",
          who: "alice",
          version: null,
          colour: null,
          planHash: null,
          startedAt: 6000,
        },
        fence,
      ),
    ).rejects.toThrow(/no longer holds the lease on hello .*bob@deploy-1 holds it now/);
    await expect(store.renewLease(fence, 1000)).rejects.toThrow(/no longer holds the lease/);
    expect(await store.listRuns()).toEqual([]);
    // Its release does not free the new holder's lease.
    await store.releaseLease(fence);
    expect((await store.currentLease("hello"))?.owner).toBe("bob@deploy-1");
  });

  it("fencing tokens never go back, even after a release", async () => {
    const { store } = await freshStore();
    const a = await store.acquireLease("hello", owner("alice@deploy-1"));
    await store.releaseLease({ app: "hello", token: a.lease.token });
    const b = await store.acquireLease("hello", owner("alice@deploy-1"));
    expect(b.lease.token).toBeGreaterThan(a.lease.token);
  });

  it("holdLease waits for a release with --wait-lock semantics", async () => {
    const { store } = await freshStore();
    const first = await store.acquireLease(
      "hello",
      owner("alice@deploy-1", process.ppid, (await import("node:os")).hostname()),
    );
    setTimeout(() => void store.releaseLease({ app: "hello", token: first.lease.token }), 300);
    const waits: unknown[] = [];
    const held = await holdLease(store, "hello", {
      ttlMs: 5000,
      waitMs: 5000,
      onWait: (h) => waits.push(h?.owner),
    });
    expect(waits[0]).toBe("alice@deploy-1");
    expect(held.lease.token).toBe(first.lease.token + 1);
    await held.release();
    expect(await store.currentLease("hello")).toBeUndefined();
  });

  it("of eight processes racing for one app's lease, exactly one gets it", async () => {
    const { dir } = await freshStore();
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(path.join(repoRoot, "dist/history/sqlite-store.js"))});
      const store = await openSqliteStore(process.argv[1]);
      try { await store.acquireLease("hello", { owner: "p" + process.pid, host: "deploy-1", pid: process.pid, ttlMs: 60000 }); console.log("acquired"); }
      catch (e) { console.log(e.code); }
      await new Promise((r) => setTimeout(r, 500));`;
    const outputs = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir]);
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.stderr.on("data", (d: Buffer) => (out += d.toString()));
            child.on("close", () => resolve(out.trim()));
          }),
      ),
    );
    expect(outputs.filter((o) => o === "acquired")).toHaveLength(1);
    expect(outputs.filter((o) => o === "LOCKED")).toHaveLength(7);
  });
});
