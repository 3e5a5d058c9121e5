import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import path from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { KubecontrolError } from "../errors.js";
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

/** Mode of the store's files: the deployers group reads and writes, others nothing (history names people). */
const FILE_MODE = 0o660;
/** setgid, so files made inside belong to the directory's group (the deployers group). */
const DIR_MODE = 0o2770;

/** Opens (creating if needed) the SQLite store at `<stateDir>/kubecontrol.db`. */
export async function openSqliteStore(stateDir: string): Promise<HistoryStore> {
  const { default: Database } = await import("better-sqlite3");
  if (!existsSync(stateDir)) {
    mkdirSync(stateDir, { recursive: true });
    // mkdir's mode passes through the umask and drops setgid: set it explicitly.
    chmodSync(stateDir, DIR_MODE);
  }
  const file = path.join(stateDir, "kubecontrol.db");
  // Files SQLite creates later (-wal, -shm) follow the umask: keep them off-limits to others too.
  const previous = process.umask(0o007);
  let db: BetterSqlite3.Database;
  try {
    // SQLite would make the file 0644 less the umask (0640): another deployer could not write
    // to it until the chmod below. Made here, it is 0660 from the start, and SQLite gives -wal
    // and -shm the database's mode.
    if (!existsSync(file)) closeSync(openSync(file, "a", FILE_MODE));
    db = new Database(file, { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
  } finally {
    process.umask(previous);
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) shareFile(f);
  return new SqliteStore(db);
}

/**
 * Brings the file's schema to SCHEMA_VERSION: the migrations after its `user_version`, in one
 * immediate transaction (a second process opening the file at once waits, then finds nothing
 * left to do).
 */
function migrate(db: BetterSqlite3.Database): void {
  const version = () => Number(db.pragma("user_version", { simple: true }));
  if (version() >= SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const m of pendingMigrations(version())) {
      db.exec(m.sqlite);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}

/**
 * Gives a store file the group's mode when it lacks it. The files belong to whichever deployer
 * made them; only their owner (or root) may chmod them, and another deployer's file already has
 * this mode from its owner's run, so one this process may not change is left as it is.
 */
function shareFile(file: string): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat || (stat.mode & 0o777) === FILE_MODE) return;
  try {
    chmodSync(file, FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOENT") throw err;
  }
}

class SqliteStore implements HistoryStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async acquireLease(app: string, o: AcquireOptions): Promise<AcquireResult> {
    const now = o.now ?? Date.now();
    const isAlive = o.isAlive ?? pidAlive;
    return this.db
      .transaction((): AcquireResult => {
        const current = this.leaseRow(app);
        let tookOverFrom: Lease | undefined;
        if (current) {
          const sameOwner = current.owner === o.owner && current.host === o.host && current.pid === o.pid;
          const deadHere = current.host === o.host && !isAlive(current.pid);
          const expired = current.expiresAt <= now;
          if (!sameOwner && !deadHere && !expired) throw lockedError(current, now);
          if (!sameOwner) tookOverFrom = current;
        }
        const last = (
          this.db.prepare("SELECT last_token FROM fencing WHERE app = ?").get(app) as Row | undefined
        )?.last_token;
        const token = Number(last ?? 0) + 1;
        this.db
          .prepare(
            "INSERT INTO fencing (app, last_token) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET last_token = excluded.last_token",
          )
          .run(app, token);
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
        this.db
          .prepare(
            `INSERT INTO leases (app, owner, host, pid, acquired_at, heartbeat_at, expires_at, token) VALUES (@app, @owner, @host, @pid, @acquiredAt, @heartbeatAt, @expiresAt, @token)
           ON CONFLICT (app) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, acquired_at = excluded.acquired_at,
             heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, token = excluded.token`,
          )
          .run(lease);
        const detail = tookOverFrom
          ? `from ${tookOverFrom.owner} (pid ${tookOverFrom.pid} on ${tookOverFrom.host}, token ${tookOverFrom.token}): ${tookOverFrom.expiresAt <= now ? "expired" : "owner no longer running"}`
          : null;
        this.db
          .prepare("INSERT INTO lease_log (app, at, event, owner, token, detail) VALUES (?, ?, ?, ?, ?, ?)")
          .run(app, now, tookOverFrom ? "took-over" : "acquired", o.owner, token, detail);
        return { lease, tookOverFrom };
      })
      .immediate();
  }

  async renewLease(fence: Fence, ttlMs: number, now = Date.now()): Promise<Lease> {
    return this.db
      .transaction((): Lease => {
        const lease = this.fenced(fence);
        this.db
          .prepare("UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE app = ?")
          .run(now, now + ttlMs, fence.app);
        return { ...lease, heartbeatAt: now, expiresAt: now + ttlMs };
      })
      .immediate();
  }

  async releaseLease(fence: Fence): Promise<void> {
    this.db
      .transaction(() => {
        const lease = this.leaseRow(fence.app);
        // Releasing a lease already taken over is a no-op: the new holder keeps it.
        if (!lease || lease.token !== fence.token) return;
        this.db.prepare("DELETE FROM leases WHERE app = ?").run(fence.app);
        this.db
          .prepare(
            "INSERT INTO lease_log (app, at, event, owner, token, detail) VALUES (?, ?, 'released', ?, ?, NULL)",
          )
          .run(fence.app, Date.now(), lease.owner, lease.token);
      })
      .immediate();
  }

  async currentLease(app: string): Promise<Lease | undefined> {
    return this.leaseRow(app);
  }

  /** Lease events of an app, oldest first (acquired, took-over, released). */
  async leaseLog(app: string): Promise<LeaseEvent[]> {
    return this.db
      .prepare("SELECT at, event, owner, token, detail FROM lease_log WHERE app = ? ORDER BY rowid")
      .all(app) as never;
  }

  async startRun(run: NewRun, fence: Fence): Promise<void> {
    this.db
      .transaction(() => {
        this.fenced(fence);
        this.db
          .prepare(
            `INSERT INTO runs (id, app, command, who, version, colour, plan_hash, started_at, finished_at, result, error, options, trigger, subject)
           VALUES (@id, @app, @command, @who, @version, @colour, @planHash, @startedAt, NULL, 'running', NULL, @options, @trigger, @subject)`,
          )
          .run({
            ...run,
            options: run.options ? JSON.stringify(run.options) : null,
            trigger: run.trigger ?? null,
            subject: run.subject ?? null,
          });
      })
      .immediate();
  }

  async finishRun(
    id: string,
    result: Exclude<RunResult, "running">,
    error: string | null,
    fence: Fence,
    now = Date.now(),
  ): Promise<void> {
    this.db
      .transaction(() => {
        this.fenced(fence);
        this.db
          .prepare("UPDATE runs SET result = ?, error = ?, finished_at = ? WHERE id = ? AND app = ?")
          .run(result, error, now, id, fence.app);
      })
      .immediate();
  }

  async recordStep(step: StepRecord, fence: Fence): Promise<void> {
    this.db
      .transaction(() => {
        this.fenced(fence);
        this.db
          .prepare(
            `INSERT INTO steps (run_id, step, status, started_at, finished_at, changed, output, error)
           VALUES (@runId, @step, @status, @startedAt, @finishedAt, @changed, @output, @error)
           ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
             changed = excluded.changed, output = excluded.output, error = excluded.error`,
          )
          .run({ ...step, changed: step.changed ? 1 : 0 });
      })
      .immediate();
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.pageRows({ ...filter, limit: filter.limit ?? 100 }, undefined)
      .slice(0, filter.limit ?? 100)
      .map(toRun);
  }

  async pageRuns(filter: RunFilter, after?: string): Promise<RunPage> {
    return toPage(this.pageRows(filter, after), filter.limit);
  }

  private pageRows(filter: RunFilter, after: string | undefined): Row[] {
    const { sql, args } = runsPageSql(filter, after ? decodeCursor(after) : undefined, "sqlite", "r.rowid");
    return this.db.prepare(sql).all(...args) as Row[];
  }

  async breakLease(app: string, o: BreakLeaseOptions): Promise<BrokenLease> {
    const now = o.now ?? Date.now();
    return this.db
      .transaction((): BrokenLease => {
        const lease = this.leaseRow(app);
        const stale =
          lease && lease.token === o.token
            ? staleReason(lease, { host: o.host, now, isAlive: o.isAlive ?? pidAlive })
            : undefined;
        if (!lease || !stale) throw notBreakable(app, lease, o.token, now);
        this.db.prepare("DELETE FROM leases WHERE app = ?").run(app);
        this.db
          .prepare(
            "INSERT INTO lease_log (app, at, event, owner, token, detail) VALUES (?, ?, 'broken', ?, ?, ?)",
          )
          .run(app, now, lease.owner, lease.token, `by ${o.who} (${stale}): ${o.why}`);
        const running = this.db
          .prepare("SELECT id FROM runs WHERE app = ? AND result = 'running' AND started_at >= ?")
          .all(app, lease.acquiredAt) as { id: string }[];
        const close = this.db.prepare(
          "UPDATE runs SET result = 'interrupted', error = ?, finished_at = ? WHERE id = ?",
        );
        for (const r of running)
          close.run(
            `INTERRUPTED: its lease (${lease.owner}, pid ${lease.pid}) was ${stale === "expired" ? "expired" : "stale"} and broken by ${o.who}`,
            now,
            r.id,
          );
        return { lease, interrupted: running.map((r) => r.id) };
      })
      .immediate();
  }

  async recordAction(a: ActionRecord): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO actions (at, app, action, who, why, detail, result) VALUES (@at, @app, @action, @who, @why, @detail, @result)",
      )
      .run(a);
  }

  async listActions(app: string, limit = 20): Promise<ActionRecord[]> {
    return (
      this.db
        .prepare("SELECT * FROM actions WHERE app = ? ORDER BY at DESC, rowid DESC LIMIT ?")
        .all(app, limit) as Row[]
    ).map(toAction);
  }

  async getRun(id: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as Row | undefined;
    if (!row) return undefined;
    const steps = (
      this.db.prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY started_at, rowid").all(id) as Row[]
    ).map(toStep);
    return { run: toRun(row), steps };
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private leaseRow(app: string): Lease | undefined {
    const r = this.db.prepare("SELECT * FROM leases WHERE app = ?").get(app) as Row | undefined;
    return r ? toLease(r) : undefined;
  }

  /** The lease a write claims to hold; refuses a write from a run whose lease was taken over. */
  private fenced(fence: Fence): Lease {
    const lease = this.leaseRow(fence.app);
    if (!lease || lease.token !== fence.token) {
      throw new KubecontrolError(
        "LOCKED",
        `this run no longer holds the lease on ${fence.app} (token ${fence.token})${lease ? `: ${lease.owner} holds it now (token ${lease.token})` : ""}`,
        {
          hint: "another run took over after this one stopped renewing its lease; its writes are refused so the two cannot both act",
          details: { app: fence.app, token: fence.token, holder: lease?.owner },
        },
      );
    }
    return lease;
  }
}
