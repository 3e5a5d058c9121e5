import type { Pool, PoolClient } from "pg";
import { KubecontrolError } from "../errors.js";
import { registerSecret } from "../io/redact.js";
import {
  decodeCursor,
  lockedError,
  notBreakable,
  pidAlive,
  type Row,
  runsPageSql,
  staleReason,
  toAction,
  toLease,
  toPage,
  toRun,
  toStep,
} from "./common.js";
import { pendingMigrations, SCHEMA_VERSION } from "./migrations.js";
import { storeError } from "./postgres-errors.js";
import { type PostgresTarget, postgresTarget } from "./postgres-target.js";
import type {
  AcquireOptions,
  AcquireResult,
  ActionRecord,
  BreakLeaseOptions,
  BrokenLease,
  Fence,
  HistoryStore,
  Lease,
  LeaseEvent,
  NewRun,
  RunFilter,
  RunPage,
  RunRecord,
  RunResult,
  StepRecord,
} from "./types.js";

/**
 * The history store in PostgreSQL, shared by several kubecontrol hosts: the same tables and
 * semantics as the SQLite store (src/history/sqlite-store.ts).
 *
 * Time rule: a lease's times (acquired, heartbeat, expiry) are the database server's clock,
 * read inside the transaction that writes them, never a host's. Hosts whose clocks disagree
 * therefore agree on when a lease expires; the lease lifetime (a duration) is all a host
 * supplies. Run and step times are the deploying host's clock, as that host saw them: skew
 * between hosts can only misorder `history` by the skew, never let two runs act at once.
 *
 * "Its owner's process is gone" is only asked on the host that ran it (same host name): a pid
 * means nothing elsewhere, so a lease held from another host is taken over only once it expired.
 * Host names must therefore be unique across the hosts sharing a database.
 */

/** Serializes schema creation across hosts opening one database at once (any constant; per database). */
const SCHEMA_LOCK = 0x6b75_6265_6374_6cn;

/** The database server's clock in milliseconds, read when the statement runs (not when its transaction began). */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * Opens the store at a postgres:// URL, creating its tables when they are missing (once, under
 * an advisory lock, so hosts opening a new database at once do not race).
 */
export async function openPostgresStore(url: string): Promise<PostgresStore> {
  const target = postgresTarget(url);
  registerSecret(target.password);
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    application_name: "kubecontrol",
    max: 4,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    // A host paused inside a transaction must not hold an app's rows for long, nor a query hang a run.
    idle_in_transaction_session_timeout: 60_000,
    lock_timeout: 30_000,
    statement_timeout: 60_000,
  });
  // An idle connection the server drops emits here; the next query reconnects or fails with a coded error.
  pool.on("error", () => {});
  const store = new PostgresStore(pool, target);
  try {
    await store.ensureSchema();
  } catch (err) {
    await pool.end().catch(() => {});
    throw storeError(err, target, "opening");
  }
  return store;
}

export class PostgresStore implements HistoryStore {
  constructor(
    private readonly pool: Pool,
    private readonly target: PostgresTarget,
  ) {}

  /**
   * Brings the database's schema to SCHEMA_VERSION: the migrations after the highest version
   * `kubecontrol_schema` records, in one transaction under an advisory lock (hosts opening a new
   * or older database at once take turns; the second finds nothing left). A database at the
   * current version needs no DDL, so its users need no CREATE privilege.
   */
  async ensureSchema(): Promise<void> {
    const current = async (q: Pick<Pool, "query">) => {
      try {
        const { rows } = await q.query("SELECT max(version) AS v FROM kubecontrol_schema");
        return Number(rows[0]?.v ?? 0);
      } catch (err) {
        if ((err as { code?: string }).code === "42P01") return 0; // undefined_table: a new database
        throw err;
      }
    };
    if ((await current(this.pool)) >= SCHEMA_VERSION) return;
    await this.transaction(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK.toString()]);
      await c.query("CREATE TABLE IF NOT EXISTS kubecontrol_schema (version INTEGER NOT NULL)");
      for (const m of pendingMigrations(await current(c))) {
        await c.query(m.postgres);
        await c.query("INSERT INTO kubecontrol_schema (version) VALUES ($1)", [m.version]);
      }
    });
  }

  async acquireLease(app: string, o: AcquireOptions): Promise<AcquireResult> {
    const isAlive = o.isAlive ?? pidAlive;
    return this.transaction(async (c) => {
      // The app's fencing row is its mutex: every acquisition locks it first, so they take turns.
      const { rows: f } = await c.query(
        `INSERT INTO fencing AS f (app, last_token) VALUES ($1, 0)
         ON CONFLICT (app) DO UPDATE SET last_token = f.last_token RETURNING last_token`,
        [app],
      );
      // Locking the lease row waits for fenced writes in flight (they hold it FOR SHARE).
      const { rows: l } = await c.query("SELECT * FROM leases WHERE app = $1 FOR UPDATE", [app]);
      const now = o.now ?? Number((await c.query(`SELECT ${DB_NOW} AS now`)).rows[0]!.now);
      const current = l[0] ? toLease(l[0]) : undefined;
      let tookOverFrom: Lease | undefined;
      if (current) {
        const sameOwner = current.owner === o.owner && current.host === o.host && current.pid === o.pid;
        const deadHere = current.host === o.host && !isAlive(current.pid);
        const expired = current.expiresAt <= now;
        if (!sameOwner && !deadHere && !expired) throw lockedError(current, now);
        if (!sameOwner) tookOverFrom = current;
      }
      const token = Number(f[0]!.last_token) + 1;
      const lease: Lease = {
        app,
        owner: o.owner,
        host: o.host,
        pid: o.pid,
        acquiredAt: now,
        heartbeatAt: now,
        expiresAt: now + o.ttlMs,
        token,
      };
      const detail = tookOverFrom
        ? `from ${tookOverFrom.owner} (pid ${tookOverFrom.pid} on ${tookOverFrom.host}, token ${tookOverFrom.token}): ${tookOverFrom.expiresAt <= now ? "expired" : "owner no longer running"}`
        : null;
      await c.query(
        `WITH t AS (UPDATE fencing SET last_token = $8 WHERE app = $1),
         l AS (INSERT INTO leases (app, owner, host, pid, acquired_at, heartbeat_at, expires_at, token)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (app) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
                 acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at,
                 expires_at = excluded.expires_at, token = excluded.token)
         INSERT INTO lease_log (app, at, event, owner, token, detail) VALUES ($1, $5, $9, $2, $8, $10)`,
        [
          app,
          o.owner,
          o.host,
          o.pid,
          lease.acquiredAt,
          lease.heartbeatAt,
          lease.expiresAt,
          token,
          tookOverFrom ? "took-over" : "acquired",
          detail,
        ],
      );
      return { lease, tookOverFrom };
    });
  }

  async renewLease(fence: Fence, ttlMs: number, now?: number): Promise<Lease> {
    const { rows } = await this.query(
      `WITH t AS (SELECT coalesce($3::bigint, ${DB_NOW}) AS now)
       UPDATE leases SET heartbeat_at = t.now, expires_at = t.now + $4::bigint FROM t
       WHERE app = $1 AND token = $2 RETURNING leases.*`,
      [fence.app, fence.token, now ?? null, ttlMs],
    );
    if (!rows[0]) throw await this.notHolding(fence);
    return toLease(rows[0]);
  }

  async releaseLease(fence: Fence): Promise<void> {
    // Releasing a lease already taken over is a no-op: the new holder keeps it.
    await this.query(
      `WITH d AS (DELETE FROM leases WHERE app = $1 AND token = $2 RETURNING owner, token)
       INSERT INTO lease_log (app, at, event, owner, token, detail)
       SELECT $1, ${DB_NOW}, 'released', owner, token, NULL FROM d`,
      [fence.app, fence.token],
    );
  }

  async currentLease(app: string): Promise<Lease | undefined> {
    const { rows } = await this.query("SELECT * FROM leases WHERE app = $1", [app]);
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  /** Lease events of an app, oldest first (acquired, took-over, released). */
  async leaseLog(app: string): Promise<LeaseEvent[]> {
    const { rows } = await this.query(
      "SELECT at, event, owner, token, detail FROM lease_log WHERE app = $1 ORDER BY seq",
      [app],
    );
    return rows.map((r) => ({
      at: Number(r.at),
      event: String(r.event),
      owner: String(r.owner),
      token: Number(r.token),
      detail: (r.detail as string | null) ?? null,
    }));
  }

  async startRun(run: NewRun, fence: Fence): Promise<void> {
    await this.fencedWrite(
      fence,
      `INSERT INTO runs (id, app, command, who, version, colour, plan_hash, started_at, finished_at, result, error, options, trigger, subject)
       SELECT $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::bigint, NULL, 'running', NULL, $11::text,
         $12::text, $13::text
       FROM lease`,
      [
        run.id,
        run.app,
        run.command,
        run.who,
        run.version,
        run.colour,
        run.planHash,
        run.startedAt,
        run.options ? JSON.stringify(run.options) : null,
        run.trigger ?? null,
        run.subject ?? null,
      ],
    );
  }

  async finishRun(
    id: string,
    result: Exclude<RunResult, "running">,
    error: string | null,
    fence: Fence,
    now = Date.now(),
  ): Promise<void> {
    await this.fencedWrite(
      fence,
      "UPDATE runs SET result = $4::text, error = $5::text, finished_at = $6::bigint FROM lease WHERE id = $3::text AND app = $1",
      [id, result, error, now],
    );
  }

  async recordStep(step: StepRecord, fence: Fence): Promise<void> {
    await this.fencedWrite(
      fence,
      `INSERT INTO steps (run_id, step, status, started_at, finished_at, changed, output, error)
       SELECT $3::text, $4::text, $5::text, $6::bigint, $7::bigint, $8::boolean, $9::text, $10::text FROM lease
       ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
         changed = excluded.changed, output = excluded.output, error = excluded.error`,
      [
        step.runId,
        step.step,
        step.status,
        step.startedAt,
        step.finishedAt,
        step.changed,
        step.output,
        step.error,
      ],
    );
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const rows = await this.pageRows({ ...filter, limit: filter.limit ?? 100 }, undefined);
    return rows.slice(0, filter.limit ?? 100).map(toRun);
  }

  async pageRuns(filter: RunFilter, after?: string): Promise<RunPage> {
    return toPage(await this.pageRows(filter, after), filter.limit);
  }

  private async pageRows(filter: RunFilter, after: string | undefined): Promise<Row[]> {
    const { sql, args } = runsPageSql(filter, after ? decodeCursor(after) : undefined, "postgres", "r.seq");
    let n = 0;
    return (
      await this.query(
        sql.replace(/\?/g, () => `$${++n}`),
        args,
      )
    ).rows;
  }

  async breakLease(app: string, o: BreakLeaseOptions): Promise<BrokenLease> {
    return this.transaction(async (c) => {
      // The same lock order as an acquisition: the app's fencing row, then its lease.
      await c.query("SELECT last_token FROM fencing WHERE app = $1 FOR UPDATE", [app]);
      const { rows: l } = await c.query("SELECT * FROM leases WHERE app = $1 FOR UPDATE", [app]);
      const now = o.now ?? Number((await c.query(`SELECT ${DB_NOW} AS now`)).rows[0]!.now);
      const lease = l[0] ? toLease(l[0]) : undefined;
      const stale =
        lease && lease.token === o.token
          ? staleReason(lease, { host: o.host, now, isAlive: o.isAlive ?? pidAlive })
          : undefined;
      if (!lease || !stale) throw notBreakable(app, lease, o.token, now);
      await c.query("DELETE FROM leases WHERE app = $1", [app]);
      await c.query(
        "INSERT INTO lease_log (app, at, event, owner, token, detail) VALUES ($1, $2, 'broken', $3, $4, $5)",
        [app, now, lease.owner, lease.token, `by ${o.who} (${stale}): ${o.why}`],
      );
      const { rows } = await c.query(
        `UPDATE runs SET result = 'interrupted', error = $3, finished_at = $4
         WHERE app = $1 AND result = 'running' AND started_at >= $2 RETURNING id`,
        [
          app,
          lease.acquiredAt,
          `INTERRUPTED: its lease (${lease.owner}, pid ${lease.pid}) was ${stale === "expired" ? "expired" : "stale"} and broken by ${o.who}`,
          now,
        ],
      );
      return { lease, interrupted: rows.map((r) => String(r.id)) };
    });
  }

  async recordAction(a: ActionRecord): Promise<void> {
    await this.query(
      "INSERT INTO actions (at, app, action, who, why, detail, result) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [a.at, a.app, a.action, a.who, a.why, a.detail, a.result],
    );
  }

  async listActions(app: string, limit = 20): Promise<ActionRecord[]> {
    const { rows } = await this.query(
      "SELECT * FROM actions WHERE app = $1 ORDER BY at DESC, seq DESC LIMIT $2",
      [app, limit],
    );
    return rows.map(toAction);
  }

  async getRun(id: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const { rows } = await this.query("SELECT * FROM runs WHERE id = $1", [id]);
    if (!rows[0]) return undefined;
    const steps = await this.query("SELECT * FROM steps WHERE run_id = $1 ORDER BY started_at, seq", [id]);
    return { run: toRun(rows[0]), steps: steps.rows.map(toStep) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * One statement that writes only while the fence still holds the lease: `lease` (the lease row
   * with the fence's token, locked FOR SHARE) gates the write, so a take-over either waits for
   * it to commit or makes it write nothing. $1 and $2 are the fence; the write's values follow.
   */
  private async fencedWrite(fence: Fence, write: string, values: unknown[]): Promise<void> {
    const { rows } = await this.query(
      `WITH lease AS (SELECT token FROM leases WHERE app = $1 AND token = $2 FOR SHARE),
       w AS (${write})
       SELECT count(*)::int AS held FROM lease`,
      [fence.app, fence.token, ...values],
    );
    if (rows[0]?.held !== 1) throw await this.notHolding(fence);
  }

  /** The refusal of a write from a run whose lease was taken over (or released). */
  private async notHolding(fence: Fence): Promise<KubecontrolError> {
    const lease = await this.currentLease(fence.app);
    return new KubecontrolError(
      "LOCKED",
      `this run no longer holds the lease on ${fence.app} (token ${fence.token})${lease ? `: ${lease.owner} holds it now (token ${lease.token})` : ""}`,
      {
        hint: "another run took over after this one stopped renewing its lease; its writes are refused so the two cannot both act",
        details: { app: fence.app, token: fence.token, holder: lease?.owner },
      },
    );
  }

  private async query(sql: string, values: unknown[]): Promise<{ rows: Row[] }> {
    try {
      return await this.pool.query(sql, values);
    } catch (err) {
      throw storeError(err, this.target, "a query on");
    }
  }

  /** Runs `body` in a transaction on one connection; retried when PostgreSQL asks (serialization failure, deadlock). */
  private async transaction<T>(body: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw storeError(err, this.target, "connecting to");
      }
      try {
        await client.query("BEGIN");
        const result = await body(client);
        await client.query("COMMIT");
        client.release();
        return result;
      } catch (err) {
        // A connection whose ROLLBACK fails is broken: drop it instead of returning it to the pool.
        const broken = await client.query("ROLLBACK").then(
          () => false,
          () => true,
        );
        client.release(broken);
        const code = (err as { code?: string }).code;
        if ((code === "40001" || code === "40P01") && attempt < 5) continue;
        throw storeError(err, this.target, "a transaction on");
      }
    }
  }
}

export { storeError } from "./postgres-errors.js";
export { describeTarget, type PostgresTarget, postgresTarget } from "./postgres-target.js";
