import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { KubecontrolError } from "../../src/errors.js";
import { MIGRATIONS } from "../../src/history/migrations.js";
import { openStore } from "../../src/history/open.js";
import { openPostgresStore, type PostgresStore } from "../../src/history/postgres-store.js";
import { kubecontrol } from "../helpers/cli.js";
import { freePort, type PostgresServer, skipPostgres, startPostgres } from "../helpers/postgres.js";

/**
 * The PostgreSQL store's own promises: several hosts (here, several stores with different host
 * names) share runs and leases, lease expiry is the database's clock, the tables are made once
 * however many hosts open a new database at once, and a failure to connect names the server
 * but never the password. What every store does is in store-contract.test.ts.
 */
describe.skipIf(skipPostgres)("the PostgreSQL store", () => {
  let server: PostgresServer;
  let unavailable: unknown;
  beforeAll(async () => {
    // A server that cannot start fails each test with the reason (counted as failed, not skipped).
    await startPostgres().then(
      (s) => {
        server = s;
      },
      (err: unknown) => {
        unavailable = err;
      },
    );
  });
  beforeEach(() => {
    if (unavailable) throw unavailable;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const stores: PostgresStore[] = [];
  async function open(url: string): Promise<PostgresStore> {
    const store = await openPostgresStore(url);
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    vi.useRealTimers();
    for (const s of stores.splice(0)) await s.close();
  });

  /** A pid that certainly belongs to no running process (on this machine, which both "hosts" are). */
  const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!;

  it("two hosts see each other's runs; host B does not take over host A's lease before it expires, dead pid or not", async () => {
    const url = await server.createDatabase();
    const [a, b] = [await open(url), await open(url)];
    const pidA = deadPid();
    const held = await a.acquireLease("hello", {
      owner: "alice@deploy-a",
      host: "deploy-a",
      pid: pidA,
      ttlMs: 2500,
    });
    const fenceA = { app: "hello", token: held.lease.token };
    await a.startRun(
      {
        id: "run-a",
        app: "hello",
        command: "create",
        who: "alice@deploy-a",
        version: "abc",
        colour: "blue",
        planHash: null,
        startedAt: Date.now(),
      },
      fenceA,
    );
    await a.recordStep(
      {
        runId: "run-a",
        step: "ensure-eks-cluster/blue",
        status: "running",
        startedAt: Date.now(),
        finishedAt: null,
        changed: false,
        output: null,
        error: null,
      },
      fenceA,
    );
    expect((await b.listRuns({ app: "hello" })).map((r) => [r.id, r.who, r.result])).toEqual([
      ["run-a", "alice@deploy-a", "running"],
    ]);
    expect((await b.getRun("run-a"))?.steps.map((s) => s.step)).toEqual(["ensure-eks-cluster/blue"]);
    expect(await b.currentLease("hello")).toEqual(held.lease);

    // Host B may not judge host A's pid: on B it names no process (or another one).
    const asB = {
      owner: "bob@deploy-b",
      host: "deploy-b",
      pid: process.pid,
      ttlMs: 2500,
      isAlive: () => false,
    };
    const refused = (await b.acquireLease("hello", asB).catch((e: unknown) => e)) as KubecontrolError;
    expect(refused.code).toBe("LOCKED");
    expect(refused.message).toContain(`hello is being deployed by alice@deploy-a (pid ${pidA} on deploy-a)`);

    let taken: Awaited<ReturnType<PostgresStore["acquireLease"]>> | undefined;
    const deadline = Date.now() + 20_000;
    while (!taken && Date.now() < deadline) {
      taken = await b.acquireLease("hello", asB).catch(() => undefined);
      if (!taken) await new Promise((r) => setTimeout(r, 100));
    }
    expect(taken?.tookOverFrom?.owner).toBe("alice@deploy-a");
    // Both times are the database's clock: B got it only once A's lease had expired.
    expect(taken!.lease.acquiredAt).toBeGreaterThanOrEqual(held.lease.expiresAt);
    expect(taken!.lease.token).toBe(held.lease.token + 1);
    const log = await a.leaseLog("hello");
    expect(log.map((l) => [l.event, l.owner])).toEqual([
      ["acquired", "alice@deploy-a"],
      ["took-over", "bob@deploy-b"],
    ]);
    expect(log[1]!.detail).toMatch(/from alice@deploy-a \(pid \d+ on deploy-a, token 1\): expired/);

    // A, back from a pause, is refused; B's writes go through and A sees them.
    await expect(a.finishRun("run-a", "succeeded", null, fenceA)).rejects.toMatchObject({ code: "LOCKED" });
    await expect(a.renewLease(fenceA, 2500)).rejects.toThrow(/bob@deploy-b holds it now/);
    await b.finishRun("run-a", "interrupted", "taken over by bob@deploy-b", {
      app: "hello",
      token: taken!.lease.token,
    });
    expect((await a.getRun("run-a"))?.run.result).toBe("interrupted");
  });

  it("no write of the old holder commits after a take-over, however they interleave", async () => {
    const ROUNDS = 10;
    const url = await server.createDatabase();
    const hosts = [await open(url), await open(url)];
    const T = Date.now();
    const rounds: { run: string; endedBy: number }[] = [];
    let fence = { app: "hello", token: 0 };
    for (let round = 0; round < ROUNDS + 1; round++) {
      // Each round's take-over counts the lease as expired (its `now` an hour after the last).
      const { lease } = await hosts[round % 2]!.acquireLease("hello", {
        owner: `owner-${round}`,
        host: `deploy-${round % 2}`,
        pid: process.pid,
        ttlMs: 60_000,
        now: T + round * 3_600_000,
      });
      if (round > 0) rounds.push({ run: `run-${round - 1}`, endedBy: lease.token });
      if (round === ROUNDS) break;
      fence = { app: "hello", token: lease.token };
      const store = hosts[round % 2]!;
      const run = `run-${round}`;
      await store.startRun(
        {
          id: run,
          app: "hello",
          command: "create",
          who: "x",
          version: null,
          colour: null,
          planHash: null,
          startedAt: 1,
        },
        fence,
      );
      // Four writers of this round's holder journal steps as fast as they can until refused,
      // while the next round's holder takes over.
      // Large outputs make each write last long enough for a take-over to land in the middle of one.
      let n = 0;
      const own = fence;
      const output = randomBytes(96 * 1024).toString("base64");
      void Array.from({ length: 4 }, async () => {
        for (;;) {
          const step = { runId: run, step: `s${n++}`, status: "running" as const, startedAt: 2 };
          const ok = await store
            .recordStep({ ...step, finishedAt: null, changed: false, output, error: null }, own)
            .then(
              () => true,
              (err: KubecontrolError) => (err.code === "LOCKED" ? false : Promise.reject(err)),
            );
          if (!ok) return;
        }
      });
      await new Promise((r) => setTimeout(r, 60));
    }
    await new Promise((r) => setTimeout(r, 200));
    const database = new URL(url).pathname.slice(1);
    const counts = await server.admin(
      `SELECT s.run_id, count(*)::int AS steps,
         count(*) FILTER (WHERE pg_xact_commit_timestamp(s.xmin) > pg_xact_commit_timestamp(l.xmin))::int AS late
       FROM steps s JOIN (VALUES ${rounds.map((r) => `('${r.run}', ${r.endedBy})`).join(", ")}) AS r (run, token) ON r.run = s.run_id
       JOIN lease_log l ON l.app = 'hello' AND l.token = r.token AND l.event = 'took-over'
       GROUP BY s.run_id ORDER BY s.run_id`,
      database,
    );
    expect(counts).toHaveLength(ROUNDS);
    for (const c of counts) {
      expect(c.steps, String(c.run_id)).toBeGreaterThan(0);
      expect(c.late, String(c.run_id)).toBe(0);
    }
  });

  it("a host on the holder's own host name takes over at once when the holder's pid is gone", async () => {
    const url = await server.createDatabase();
    const [a, a2] = [await open(url), await open(url)];
    await a.acquireLease("hello", {
      owner: "alice@deploy-a",
      host: "deploy-a",
      pid: deadPid(),
      ttlMs: 600_000,
    });
    const taken = await a2.acquireLease("hello", {
      owner: "bob@deploy-a",
      host: "deploy-a",
      pid: process.pid,
      ttlMs: 600_000,
    });
    expect(taken.tookOverFrom?.owner).toBe("alice@deploy-a");
    expect((await a.leaseLog("hello"))[1]?.detail).toContain("owner no longer running");
  });

  it("a host whose clock runs an hour ahead still waits for the lease to expire by the database's clock", async () => {
    const url = await server.createDatabase();
    const [a, b] = [await open(url), await open(url)];
    const held = await a.acquireLease("hello", {
      owner: "alice@deploy-a",
      host: "deploy-a",
      pid: 1,
      ttlMs: 60_000,
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    await expect(
      b.acquireLease("hello", { owner: "bob@deploy-b", host: "deploy-b", pid: process.pid, ttlMs: 60_000 }),
    ).rejects.toMatchObject({ code: "LOCKED" });
    // Its renewals are stamped by the database too, not an hour into the future.
    const renewed = await a.renewLease({ app: "hello", token: held.lease.token }, 60_000);
    vi.useRealTimers();
    expect(renewed.expiresAt - Date.now()).toBeLessThan(61_000);
    expect(renewed.expiresAt - Date.now()).toBeGreaterThan(50_000);
  });

  it("hosts opening a new database at once make its tables once", async () => {
    const url = await server.createDatabase();
    const opened = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(url)));
    stores.push(...opened);
    const { lease } = await opened[0]!.acquireLease("hello", {
      owner: "alice@deploy-a",
      host: "deploy-a",
      pid: process.pid,
      ttlMs: 60_000,
    });
    expect(lease.token).toBe(1);
    const check = await open(url);
    expect(await check.currentLease("hello")).toEqual(lease);
    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Each migration recorded once, however many hosts opened the database at once.
      expect((await client.query("SELECT version FROM kubecontrol_schema ORDER BY version")).rows).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version })),
      );
    } finally {
      await client.end();
    }
  });

  it("a role that may only read and write the tables uses a store an owner made", async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    await server.admin("CREATE ROLE deployer LOGIN PASSWORD 'deployer-pw'").catch(() => {});
    await server.admin(`GRANT CONNECT ON DATABASE ${database} TO deployer`);
    const asDeployer = `postgres://deployer:deployer-pw@127.0.0.1:${server.port}/${database}`;
    // Before the tables exist it may not make them, and is told what to do.
    const err = (await openPostgresStore(asDeployer).catch((e: unknown) => e)) as KubecontrolError;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toMatch(/permission denied/);
    expect(err.hint).toMatch(/GRANT CREATE ON SCHEMA public TO deployer/);
    await (await openPostgresStore(url)).close();
    await server.admin(
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO deployer",
      database,
    );
    const store = await open(asDeployer);
    const { lease } = await store.acquireLease("hello", {
      owner: "d",
      host: "h",
      pid: process.pid,
      ttlMs: 60_000,
    });
    await store.startRun(
      {
        id: "r1",
        app: "hello",
        command: "create",
        who: "d",
        version: null,
        colour: null,
        planHash: null,
        startedAt: 1,
      },
      { app: "hello", token: lease.token },
    );
    expect((await store.listRuns()).map((r) => r.id)).toEqual(["r1"]);
  });

  describe("connection failures name the server and never the password", () => {
    const noPassword = (err: KubecontrolError) => {
      const text = [err.message, err.hint, JSON.stringify(err.toJSON()), String(err.cause ?? "")].join("\n");
      expect(text).not.toContain(server.password);
      expect(text).not.toContain(encodeURIComponent(server.password));
      return text;
    };

    it("a wrong password is a configuration error naming host, port, database and user", async () => {
      const url = server.url("postgres").replace(encodeURIComponent(server.password), "wrong%2Fsecret");
      const err = (await openStore({ historyStore: url, stateDir: "/nonexistent" }).catch(
        (e: unknown) => e,
      )) as KubecontrolError;
      expect(err.code).toBe("CONFIG_INVALID");
      expect(err.message).toBe(
        `history store: opening PostgreSQL database "postgres" on 127.0.0.1:${server.port} as user "kubecontrol" failed: password authentication failed for user "kubecontrol"`,
      );
      expect(err.hint).toMatch(/check the user and password/);
      expect(noPassword(err)).not.toContain("wrong");
    });

    it("a database that does not exist says how to make it", async () => {
      const err = (await openPostgresStore(server.url("missing")).catch(
        (e: unknown) => e,
      )) as KubecontrolError;
      expect(err.code).toBe("CONFIG_INVALID");
      expect(err.message).toMatch(/database "missing" does not exist/);
      expect(err.hint).toContain("createdb -O kubecontrol missing");
      noPassword(err);
    });

    it("a server that does not answer is a retryable missing prerequisite", async () => {
      const port = await freePort();
      const url = server.url("postgres").replace(`:${server.port}/`, `:${port}/`);
      const err = (await openStore({
        historyStore: url.replace(/^postgres:/, "postgresql:"),
        stateDir: "/x",
      }).catch((e: unknown) => e)) as KubecontrolError;
      expect(err.code).toBe("PREREQUISITE_MISSING");
      expect(err.retryable).toBe(true);
      expect(err.message).toBe(
        `cannot reach the history store, PostgreSQL database "postgres" on 127.0.0.1:${port} as user "kubecontrol": connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(err.hint).toMatch(/check that the server is running/);
      noPassword(err);
    });

    it("a URL that does not parse is refused without being shown", async () => {
      const err = (await openStore({
        historyStore: `postgres://kubecontrol:${server.password}@[::1/db`,
        stateDir: "/x",
      }).catch((e: unknown) => e)) as KubecontrolError;
      expect(err.code).toBe("CONFIG_INVALID");
      expect(err.message).toMatch(/not a valid postgres:\/\/ URL/);
      noPassword(err);
    });

    it("the CLI exits 3 and prints no password; with the right URL `history` reads the shared store", async () => {
      const url = await server.createDatabase();
      const store = await open(url);
      const { lease } = await store.acquireLease("hello", {
        owner: "alice@deploy-a",
        host: "deploy-a",
        pid: process.pid,
        ttlMs: 60_000,
      });
      await store.startRun(
        {
          id: "run-1",
          app: "hello",
          command: "create",
          who: "alice@deploy-a",
          version: "abc",
          colour: "blue",
          planHash: null,
          startedAt: Date.now(),
        },
        { app: "hello", token: lease.token },
      );
      const ok = kubecontrol(["history", "--json"], { env: { KUBECONTROL_HISTORY_STORE: url } });
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout).runs.map((r: { id: string }) => r.id)).toEqual(["run-1"]);

      for (const args of [["config"], ["config", "--json"]]) {
        const shown = kubecontrol(args, { env: { KUBECONTROL_HISTORY_STORE: url } });
        expect(shown.status).toBe(0);
        expect(shown.stdout).toContain(`postgres://kubecontrol:[REDACTED]@127.0.0.1:${server.port}/`);
        expect(shown.stdout).not.toContain(encodeURIComponent(server.password));
      }

      const wrong = url.replace(encodeURIComponent(server.password), "not-the-password");
      const bad = kubecontrol(["history"], { env: { KUBECONTROL_HISTORY_STORE: wrong } });
      expect(bad.status).toBe(3);
      expect(bad.stderr).toContain(`on 127.0.0.1:${server.port} as user "kubecontrol"`);
      expect(bad.stderr).not.toContain("not-the-password");
      const json = kubecontrol(["history", "--json"], { env: { KUBECONTROL_HISTORY_STORE: wrong } });
      expect(json.status).toBe(3);
      expect(JSON.parse(json.stdout).error).toMatchObject({ code: "CONFIG_INVALID" });
      expect(json.stdout).not.toContain("not-the-password");
    });
  });
});
