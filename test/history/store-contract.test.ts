import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubecontrolError } from "../../src/errors.js";
import { holdLease } from "../../src/history/lease.js";
import { openStore } from "../../src/history/open.js";
import type { HistoryStore } from "../../src/history/types.js";
import { repoRoot } from "../helpers/apps.js";
import { type PostgresServer, skipPostgres, startPostgres } from "../helpers/postgres.js";

/**
 * What every history store promises (src/history/types.ts), run against each store: SQLite in a
 * state directory, and PostgreSQL on a throwaway server (test/helpers/postgres.ts), a fresh
 * database per test. Checks of one store alone are in sqlite-store.test.ts and
 * postgres-store.test.ts.
 */

interface StoreConfig {
  historyStore: string;
  stateDir: string;
}

interface StoreKind {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The configuration of a new, empty store. */
  fresh(): Promise<StoreConfig>;
}

const stateDir = () => path.join(mkdtempSync(path.join(tmpdir(), "kc-history-")), "state");

const sqlite: StoreKind = {
  name: "sqlite",
  async setup() {},
  async teardown() {},
  async fresh() {
    return { historyStore: "sqlite", stateDir: stateDir() };
  },
};

let server: PostgresServer | undefined;
/** Why the server did not start: each test fails with it (counted as failed, not skipped). */
let unavailable: unknown;
const postgres: StoreKind = {
  name: "postgres",
  async setup() {
    server = await startPostgres().catch((err: unknown) => {
      unavailable = err;
      return undefined;
    });
  },
  async teardown() {
    await server?.stop();
  },
  async fresh() {
    if (!server) throw unavailable;
    return { historyStore: await server.createDatabase(), stateDir: stateDir() };
  },
};

const kinds = skipPostgres ? [sqlite] : [sqlite, postgres];

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

const leaseLog = (store: HistoryStore, app: string) => store.leaseLog(app);

describe.each(kinds)("the $name store", (kind) => {
  beforeAll(() => kind.setup());
  afterAll(() => kind.teardown());

  const stores: HistoryStore[] = [];
  async function freshStore(): Promise<{ store: HistoryStore; config: StoreConfig }> {
    const config = await kind.fresh();
    const store = await openStore(config);
    stores.push(store);
    return { store, config };
  }
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
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
    await store.recordStep(
      {
        runId: "r1",
        step: "ensure-image",
        status: "skipped",
        startedAt: 1001,
        finishedAt: 1001,
        changed: false,
        output: null,
        error: "STEP_FAILED: dependency failed",
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
    // Same start time: the later record comes first.
    await store.startRun(
      {
        id: "r3",
        app: "hello",
        command: "teardown",
        who: "bob@deploy-1",
        version: null,
        colour: null,
        planHash: null,
        options: { force: true },
        startedAt: 3000,
      },
      fence,
    );

    expect((await store.listRuns({ app: "hello" })).map((r) => r.id)).toEqual(["r3", "r2", "r1"]);
    expect((await store.listRuns({ app: "webapp" })).map((r) => r.id)).toEqual([]);
    expect((await store.listRuns({ result: "failed" })).map((r) => r.id)).toEqual(["r2"]);
    expect((await store.listRuns({ result: "running" })).map((r) => r.id)).toEqual(["r3"]);
    expect((await store.listRuns({ since: 2500 })).map((r) => r.id)).toEqual(["r3", "r2"]);
    expect((await store.listRuns({ limit: 1 })).map((r) => r.id)).toEqual(["r3"]);
    expect((await store.listRuns({ app: "hello", since: 0, result: "succeeded" })).map((r) => r.id)).toEqual([
      "r1",
    ]);
    expect(await store.getRun("nope")).toBeUndefined();
    expect((await store.getRun("r3"))?.run).toEqual({
      id: "r3",
      app: "hello",
      command: "teardown",
      who: "bob@deploy-1",
      version: null,
      colour: null,
      planHash: null,
      startedAt: 3000,
      finishedAt: null,
      result: "running",
      error: null,
      options: { force: true },
      trigger: null,
      subject: null,
    });
    expect((await store.getRun("r2"))?.run).toMatchObject({ error: "STEP_FAILED: boom", finishedAt: 3500 });
    const r1 = await store.getRun("r1");
    expect(r1?.run).toMatchObject({ result: "succeeded", finishedAt: 2000, planHash: "h1", options: null });
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
      {
        runId: "r1",
        step: "ensure-image",
        status: "skipped",
        startedAt: 1001,
        finishedAt: 1001,
        changed: false,
        output: null,
        error: "STEP_FAILED: dependency failed",
      },
    ]);
  });

  it("keeps each run's trigger and commit subject, and pages history by cursor with every filter", async () => {
    const { store } = await freshStore();
    const { lease } = await store.acquireLease("hello", owner("alice@deploy-1"));
    const fence = { app: "hello", token: lease.token };
    const { lease: other } = await store.acquireLease("webapp", owner("bob@deploy-1"));
    const run = async (
      id: string,
      app: string,
      command: string,
      version: string | null,
      startedAt: number,
      result: "succeeded" | "failed",
      who = "alice@deploy-1",
    ) => {
      const f = app === "hello" ? fence : { app, token: other.token };
      await store.startRun(
        {
          id,
          app,
          command,
          who,
          version,
          colour: "blue",
          planHash: null,
          startedAt,
          trigger: id === "a1" ? "cron" : "person",
          subject: id === "a1" ? "<script>alert(1)</script> fix" : null,
        },
        f,
      );
      await store.finishRun(id, result, result === "failed" ? "STEP_FAILED: x" : null, f, startedAt + 10);
    };
    // hello: v1, v2, back to v1 (a rollback), v1 again (not one: it already runs v1), a failed v3, v2 (a rollback)
    await run("a1", "hello", "create", "v1aaaa", 1000, "succeeded");
    await run("a2", "hello", "update", "v2bbbb", 2000, "succeeded");
    await run("a3", "hello", "update", "v1aaaa", 3000, "succeeded", "bob@deploy-1");
    await run("a4", "hello", "rollout", "v1aaaa", 4000, "succeeded");
    await run("a5", "hello", "update", "v3cccc", 5000, "failed");
    await run("a6", "hello", "teardown", null, 6000, "succeeded");
    await run("a7", "hello", "update", "v2bbbb", 7000, "succeeded");
    await run("b1", "webapp", "create", "v2bbbb", 2500, "succeeded", "bob@deploy-1");

    expect((await store.getRun("a1"))?.run).toMatchObject({
      trigger: "cron",
      subject: "<script>alert(1)</script> fix",
    });
    const all = await store.pageRuns({ limit: 3 });
    expect(all.runs.map((r) => r.id)).toEqual(["a7", "a6", "a5"]);
    const second = await store.pageRuns({ limit: 3 }, all.next!);
    expect(second.runs.map((r) => r.id)).toEqual(["a4", "a3", "b1"]);
    const last = await store.pageRuns({ limit: 3 }, second.next!);
    expect(last.runs.map((r) => r.id)).toEqual(["a2", "a1"]);
    expect(last.next).toBeNull();
    const hello = await store.pageRuns({ app: "hello", limit: 50 });
    expect(hello.runs.filter((r) => r.rollback).map((r) => r.id)).toEqual(["a7", "a3"]);
    expect((await store.pageRuns({ result: "failed" })).runs.map((r) => r.id)).toEqual(["a5"]);
    expect((await store.pageRuns({ command: "update" })).runs.map((r) => r.id)).toEqual([
      "a7",
      "a5",
      "a3",
      "a2",
    ]);
    expect((await store.pageRuns({ who: "BOB" })).runs.map((r) => r.id)).toEqual(["a3", "b1"]);
    expect((await store.pageRuns({ version: "v2b" })).runs.map((r) => r.id)).toEqual(["a7", "b1", "a2"]);
    expect((await store.pageRuns({ since: 2500, until: 4000 })).runs.map((r) => r.id)).toEqual(["a3", "b1"]);
    expect((await store.listRuns({ app: "hello", until: 3000, limit: 1 })).map((r) => r.id)).toEqual(["a2"]);
    await expect(store.pageRuns({}, "not-a-cursor")).rejects.toMatchObject({ code: "USAGE" });
  });

  it("breaks a stale lease only, closing its runs as interrupted, and records actions with who and why", async () => {
    const { store } = await freshStore();
    const live = await store.acquireLease("hello", { ...owner("alice@deploy-1"), now: 1000, ttlMs: 60_000 });
    const breakIt = (token: number, now: number) =>
      store.breakLease("hello", {
        token,
        who: "carol@deploy-1",
        why: "its host died",
        host: "deploy-9",
        now,
      });
    // a live lease on another host, not expired: refused, nothing changed
    await expect(breakIt(live.lease.token, 2000)).rejects.toMatchObject({ code: "LOCKED" });
    await expect(breakIt(live.lease.token + 5, 70_000)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await store.currentLease("hello")).toBeDefined();
    await store.startRun(
      {
        id: "r1",
        app: "hello",
        command: "update",
        who: "alice@deploy-1",
        version: "v",
        colour: "green",
        planHash: null,
        startedAt: 1500,
      },
      { app: "hello", token: live.lease.token },
    );
    // expired: broken, its run closed, the lease log says who and why
    const broken = await breakIt(live.lease.token, 70_000);
    expect(broken).toMatchObject({ lease: { owner: "alice@deploy-1" }, interrupted: ["r1"] });
    expect(await store.currentLease("hello")).toBeUndefined();
    expect((await store.getRun("r1"))?.run).toMatchObject({ result: "interrupted" });
    expect((await store.getRun("r1"))?.run.error).toMatch(/broken by carol@deploy-1/);
    const log = await store.leaseLog("hello");
    expect(log.at(-1)).toMatchObject({ event: "broken", owner: "alice@deploy-1" });
    expect(log.at(-1)!.detail).toMatch(/by carol@deploy-1 \(expired\): its host died/);
    // a holder whose process is gone on this host is stale at once
    const dead = await store.acquireLease("hello", { ...owner("dave@deploy-1", deadPid()), now: 80_000 });
    await expect(
      store.breakLease("hello", {
        token: dead.lease.token,
        who: "c",
        why: "w",
        host: "deploy-1",
        now: 80_001,
      }),
    ).resolves.toMatchObject({ interrupted: [] });

    await store.recordAction({
      at: 5,
      app: "hello",
      action: "break-lease",
      who: "carol@deploy-1",
      why: "its host died",
      detail: "token 1",
      result: "succeeded",
    });
    await store.recordAction({
      at: 6,
      app: "hello",
      action: "switch",
      who: "c",
      why: "w",
      detail: null,
      result: "failed",
    });
    expect((await store.listActions("hello")).map((a) => a.action)).toEqual(["switch", "break-lease"]);
    expect(await store.listActions("webapp")).toEqual([]);
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
      expect((err as KubecontrolError).hint).toMatch(/the lease expires in (59|60)s without a heartbeat/);
      // Another app's lease is another matter.
      await expect(store.acquireLease("webapp", owner("bob@deploy-1", process.ppid))).resolves.toBeDefined();
    });

    it("takes over at once when the holder's process is gone on the same host, and records it", async () => {
      const { store } = await freshStore();
      const dead = deadPid();
      const first = await store.acquireLease("hello", owner("alice@deploy-1", dead));
      const second = await store.acquireLease("hello", owner("bob@deploy-1"));
      expect(second.tookOverFrom?.owner).toBe("alice@deploy-1");
      expect(second.lease.token).toBe(first.lease.token + 1);
      const log = await leaseLog(store, "hello");
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
      const log = await leaseLog(store, "hello");
      expect(log.map((l) => l.event)).toEqual(["acquired", "took-over"]);
      expect(log[1]!.detail).toContain("expired");
    });

    it("a renewal moves the expiry; the same owner may take its own lease again", async () => {
      const { store } = await freshStore();
      const a = await store.acquireLease("hello", { ...owner("alice@deploy-1"), now: 1000, ttlMs: 5000 });
      const renewed = await store.renewLease({ app: "hello", token: a.lease.token }, 5000, 4000);
      expect(renewed).toMatchObject({ heartbeatAt: 4000, expiresAt: 9000, acquiredAt: 1000 });
      expect(await store.currentLease("hello")).toEqual(renewed);
      await expect(
        store.acquireLease("hello", { ...owner("bob@deploy-2", 1, "deploy-2"), now: 8000 }),
      ).rejects.toThrow(/being deployed by alice/);
      const again = await store.acquireLease("hello", { ...owner("alice@deploy-1"), now: 8000 });
      expect(again.tookOverFrom).toBeUndefined();
      expect(again.lease.token).toBe(a.lease.token + 1);
    });

    it("refuses the writes of a paused owner whose lease was taken over", async () => {
      const { store } = await freshStore();
      const old = await store.acquireLease("hello", {
        ...owner("alice@deploy-1", process.pid),
        now: 0,
        ttlMs: 1000,
      });
      const fence = { app: "hello", token: old.lease.token };
      await store.startRun(
        {
          id: "before",
          app: "hello",
          command: "create",
          who: "alice",
          version: null,
          colour: null,
          planHash: null,
          startedAt: 500,
        },
        fence,
      );
      await store.acquireLease("hello", { ...owner("bob@deploy-1", process.ppid), now: 5000 });
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
      await expect(
        store.recordStep(
          {
            runId: "before",
            step: "ensureCluster",
            status: "running",
            startedAt: 6000,
            finishedAt: null,
            changed: false,
            output: null,
            error: null,
          },
          fence,
        ),
      ).rejects.toMatchObject({ code: "LOCKED" });
      await expect(store.finishRun("before", "succeeded", null, fence, 7000)).rejects.toMatchObject({
        code: "LOCKED",
      });
      await expect(store.renewLease(fence, 1000)).rejects.toThrow(/no longer holds the lease/);
      expect(await store.listRuns()).toMatchObject([{ id: "before", result: "running", finishedAt: null }]);
      expect((await store.getRun("before"))?.steps).toEqual([]);
      // Its release does not free the new holder's lease.
      await store.releaseLease(fence);
      expect((await store.currentLease("hello"))?.owner).toBe("bob@deploy-1");
    });

    it("fencing tokens never go back, even after a release", async () => {
      const { store } = await freshStore();
      const a = await store.acquireLease("hello", owner("alice@deploy-1"));
      await store.releaseLease({ app: "hello", token: a.lease.token });
      expect(await store.currentLease("hello")).toBeUndefined();
      const b = await store.acquireLease("hello", owner("alice@deploy-1"));
      expect(b.lease.token).toBeGreaterThan(a.lease.token);
      expect((await leaseLog(store, "hello")).map((l) => l.event)).toEqual([
        "acquired",
        "released",
        "acquired",
      ]);
    });

    it("holdLease waits for a release with --wait-lock semantics", async () => {
      const { store } = await freshStore();
      const first = await store.acquireLease("hello", owner("alice@deploy-1", process.ppid, hostname()));
      setTimeout(() => void store.releaseLease({ app: "hello", token: first.lease.token }), 300);
      const waits: unknown[] = [];
      const held = await holdLease(store, "hello", {
        ttlMs: 5000,
        marginMs: 1000,
        waitMs: 5000,
        onWait: (h) => waits.push(h?.owner),
      });
      expect(waits[0]).toBe("alice@deploy-1");
      expect(held.lease.token).toBe(first.lease.token + 1);
      await held.release();
      expect(await store.currentLease("hello")).toBeUndefined();
    });

    it("of eight processes racing for one app's lease, exactly one gets it", async () => {
      // For PostgreSQL the database is new: the eight also race to create its tables.
      const config = await kind.fresh();
      const script = `
        const { openStore } = await import(${JSON.stringify(path.join(repoRoot, "dist/history/open.js"))});
        const store = await openStore(JSON.parse(process.argv[1]));
        try { await store.acquireLease("hello", { owner: "p" + process.pid, host: "deploy-1", pid: process.pid, ttlMs: 60000 }); console.log("acquired"); }
        catch (e) { console.log(e.code ?? e.message); }
        // the holder stays alive until all eight have tried (a dead holder's lease is taken over)
        process.stdin.resume();
        await new Promise((r) => process.stdin.on("end", r));
        await store.close();`;
      const children = Array.from({ length: 8 }, () =>
        spawn(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(config)]),
      );
      let tried = 0;
      const outputs = await Promise.all(
        children.map(
          (child) =>
            new Promise<string>((resolve) => {
              let out = "";
              let counted = false;
              const seen = () => {
                if (counted) return;
                counted = true;
                if (++tried === children.length) for (const c of children) c.stdin.end();
              };
              child.stdout.once("data", seen);
              child.stdout.on("data", (d: Buffer) => (out += d.toString()));
              child.stderr.on("data", (d: Buffer) => (out += d.toString()));
              child.on("close", () => {
                seen();
                resolve(out.trim());
              });
            }),
        ),
      );
      expect(
        outputs.filter((o) => o === "acquired"),
        outputs.join("\n"),
      ).toHaveLength(1);
      expect(
        outputs.filter((o) => o === "LOCKED"),
        outputs.join("\n"),
      ).toHaveLength(7);
      const store = await openStore(config);
      stores.push(store);
      expect(await leaseLog(store, "hello")).toHaveLength(1);
    });
  });
});
