import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/history/migrations.js";
import { openStore } from "../../src/history/open.js";
import { type PostgresServer, skipPostgres, startPostgres } from "../helpers/postgres.js";

// A store made by an earlier kubecontrol (schema version 1: runs without options) is brought to
// the current schema when it is opened, keeping what it holds; opening it again changes nothing.

const oldRun = {
  id: "r-old",
  app: "hello",
  command: "update",
  who: "alice@deploy-1",
  version: "abc",
  colour: "green",
  plan_hash: "h",
  started_at: 1000,
  finished_at: 2000,
  result: "succeeded",
  error: null,
};

async function checkMigrated(config: { historyStore: string; stateDir: string }): Promise<void> {
  const store = await openStore(config);
  try {
    // the old run is there, with no options
    expect((await store.getRun("r-old"))?.run).toMatchObject({
      id: "r-old",
      result: "succeeded",
      options: null,
      trigger: null,
      subject: null,
    });
    // and a new run keeps its options
    const { lease } = await store.acquireLease("hello", {
      owner: "bob",
      host: "h",
      pid: process.pid,
      ttlMs: 60_000,
    });
    await store.startRun(
      {
        id: "r-new",
        app: "hello",
        command: "update",
        who: "bob",
        version: "def",
        colour: "blue",
        planHash: null,
        startedAt: 3000,
        options: { keepOld: true, drainMs: 90_000 },
      },
      { app: "hello", token: lease.token },
    );
    expect((await store.getRun("r-new"))?.run.options).toEqual({ keepOld: true, drainMs: 90_000 });
  } finally {
    await store.close();
  }
  // and opening it again finds nothing to do
  await (await openStore(config)).close();
}

describe("store migrations", () => {
  it("bring a SQLite store of schema version 1 to the current one, keeping its runs", async () => {
    const stateDir = path.join(mkdtempSync(path.join(tmpdir(), "kc-migrate-")), "state");
    mkdirSync(stateDir);
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(stateDir, "kubecontrol.db"));
    db.exec(MIGRATIONS[0]!.sqlite); // what the first release made (user_version 0)
    db.prepare(
      "INSERT INTO runs VALUES (@id, @app, @command, @who, @version, @colour, @plan_hash, @started_at, @finished_at, @result, @error)",
    ).run(oldRun);
    db.close();

    await checkMigrated({ historyStore: "sqlite", stateDir });

    const after = new Database(path.join(stateDir, "kubecontrol.db"), { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    after.close();
  });

  describe.skipIf(skipPostgres)("PostgreSQL", () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);
    afterAll(() => server?.stop());

    it("brings a database of schema version 1 to the current one, keeping its runs", async () => {
      const url = await server.createDatabase();
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(MIGRATIONS[0]!.postgres);
        await client.query("CREATE TABLE kubecontrol_schema (version INTEGER NOT NULL)");
        await client.query("INSERT INTO kubecontrol_schema VALUES (1)");
        await client.query(
          "INSERT INTO runs (id, app, command, who, version, colour, plan_hash, started_at, finished_at, result, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
          Object.values(oldRun),
        );
      } finally {
        await client.end();
      }

      await checkMigrated({ historyStore: url, stateDir: tmpdir() });

      const check = new pg.Client({ connectionString: url });
      await check.connect();
      try {
        const versions = await check.query("SELECT version FROM kubecontrol_schema ORDER BY version");
        expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await check.end();
      }
    });
  });
});
