import { KubecontrolError } from "../errors.js";
import {
  type ActionRecord,
  DEPLOY_COMMANDS,
  type Lease,
  type ListedRun,
  type RunFilter,
  type RunRecord,
  type RunResult,
  type RunTrigger,
  type StepRecord,
} from "./types.js";

/** What the SQLite and PostgreSQL stores share: row mapping, the LOCKED refusal, the pid check. */

/** A row as either store's driver returns it (SQLite integers, PostgreSQL booleans and bigints). */
export type Row = Record<string, unknown>;

/** The refusal of a second writer, naming the holder and since when. */
export function lockedError(lease: Lease, now: number): KubecontrolError {
  const since = new Date(lease.acquiredAt).toISOString();
  return new KubecontrolError(
    "LOCKED",
    `${lease.app} is being deployed by ${lease.owner} (pid ${lease.pid} on ${lease.host}) since ${since}`,
    {
      hint: `wait for it to finish, or pass --wait-lock; the lease expires in ${Math.max(0, Math.round((lease.expiresAt - now) / 1000))}s without a heartbeat`,
      details: { holder: lease.owner, host: lease.host, pid: lease.pid, since, token: lease.token },
    },
  );
}

export function toLease(r: Row): Lease {
  return {
    app: String(r.app),
    owner: String(r.owner),
    host: String(r.host),
    pid: Number(r.pid),
    acquiredAt: Number(r.acquired_at),
    heartbeatAt: Number(r.heartbeat_at),
    expiresAt: Number(r.expires_at),
    token: Number(r.token),
  };
}

export function toRun(r: Row): RunRecord {
  return {
    id: String(r.id),
    app: String(r.app),
    command: String(r.command),
    who: String(r.who),
    version: (r.version as string | null) ?? null,
    colour: (r.colour as string | null) ?? null,
    planHash: (r.plan_hash as string | null) ?? null,
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    result: r.result as RunResult,
    error: (r.error as string | null) ?? null,
    options: parseOptions(r.options),
    trigger: r.trigger === "person" || r.trigger === "cron" ? (r.trigger as RunTrigger) : null,
    subject: (r.subject as string | null) ?? null,
  };
}

/** A run of a page of history: the row, its rollback label (the `rollback` column of runsPageSql). */
export function toListedRun(r: Row): ListedRun {
  return { ...toRun(r), rollback: r.rollback === true || Number(r.rollback) === 1 };
}

export function toAction(r: Row): ActionRecord {
  return {
    at: Number(r.at),
    app: String(r.app),
    action: String(r.action),
    who: String(r.who),
    why: String(r.why),
    detail: (r.detail as string | null) ?? null,
    result: String(r.result),
  };
}

/** A page cursor: the last run's start and its insertion order (SQLite's rowid, PostgreSQL's seq). */
export interface Cursor {
  startedAt: number;
  seq: number;
}

export function encodeCursor(c: Cursor): string {
  return `${c.startedAt}.${c.seq}`;
}

export function decodeCursor(text: string): Cursor {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(text);
  if (!m)
    throw new KubecontrolError("USAGE", `page cursor: expected one a page of history gave, found "${text}"`, {
      hint: "follow the page's own next link, or start again from the first page",
    });
  return { startedAt: Number(m[1]), seq: Number(m[2]) };
}

const DEPLOYS = DEPLOY_COMMANDS.map((c) => `'${c}'`).join(", ");

/**
 * The SQL (both dialects: `?` placeholders, `seq` naming the insertion order) of one page of
 * runs: the filter's conditions, the cursor, newest first, one row more than the page to tell
 * whether another follows, and the rollback label: a deploy to a version an earlier successful
 * deploy of the app ran, other than the version of its last successful deploy before it.
 */
export function runsPageSql(
  filter: RunFilter,
  after: Cursor | undefined,
  dialect: "sqlite" | "postgres",
  seq: string,
): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    args.push(...values);
  };
  if (filter.app) add("r.app = ?", filter.app);
  if (filter.result) add("r.result = ?", filter.result);
  if (filter.command) add("r.command = ?", filter.command);
  if (filter.since !== undefined) add("r.started_at >= ?", filter.since);
  if (filter.until !== undefined) add("r.started_at < ?", filter.until);
  if (filter.who)
    add(
      dialect === "sqlite" ? "instr(lower(r.who), lower(?)) > 0" : "strpos(lower(r.who), lower(?)) > 0",
      filter.who,
    );
  if (filter.version)
    add(
      dialect === "sqlite" ? "substr(r.version, 1, length(?)) = ?" : "left(r.version, length(?)) = ?",
      filter.version,
      filter.version,
    );
  if (after)
    add(
      `(r.started_at < ? OR (r.started_at = ? AND ${seq} < ?))`,
      after.startedAt,
      after.startedAt,
      after.seq,
    );
  const earlier = `FROM runs p WHERE p.app = r.app AND p.result = 'succeeded' AND p.command IN (${DEPLOYS})
      AND p.version IS NOT NULL AND p.started_at < r.started_at`;
  const rollback = `(r.command IN (${DEPLOYS}) AND r.version IS NOT NULL
    AND EXISTS (SELECT 1 ${earlier} AND p.version = r.version)
    AND (SELECT p.version ${earlier} ORDER BY p.started_at DESC LIMIT 1) <> r.version)`;
  args.push((filter.limit ?? 50) + 1);
  return {
    sql: `SELECT r.*, ${seq} AS page_seq, ${rollback} AS rollback FROM runs r
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY r.started_at DESC, ${seq} DESC LIMIT ?`,
    args,
  };
}

/** A page from the rows runsPageSql selected (one more than the page when another follows). */
export function toPage(rows: Row[], limit: number | undefined): { runs: ListedRun[]; next: string | null } {
  const size = limit ?? 50;
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    runs: page.map(toListedRun),
    next:
      rows.length > size && last
        ? encodeCursor({ startedAt: Number(last.started_at), seq: Number(last.page_seq) })
        : null,
  };
}

/** Whether a lease may be broken: expired, or its holder's process gone on this host. */
export function staleReason(
  lease: Lease,
  o: { host: string; now: number; isAlive: (pid: number) => boolean },
): string | undefined {
  if (lease.expiresAt <= o.now) return "expired";
  if (lease.host === o.host && !o.isAlive(lease.pid)) return `its process (pid ${lease.pid}) is gone`;
  return undefined;
}

/** The refusal to break a lease that is not stale, or not the one the caller saw. */
export function notBreakable(
  app: string,
  lease: Lease | undefined,
  token: number,
  now: number,
): KubecontrolError {
  if (!lease || lease.token !== token)
    return new KubecontrolError(
      "NOT_FOUND",
      `${app}: the lease (token ${token}) is no longer held${lease ? `: ${lease.owner} holds a newer one (token ${lease.token})` : ""}`,
      { hint: "nothing was changed; look at the app again" },
    );
  return new KubecontrolError(
    "LOCKED",
    `${app}: the lease of ${lease.owner} (pid ${lease.pid} on ${lease.host}) is live: it expires in ${Math.max(0, Math.round((lease.expiresAt - now) / 1000))}s and its process is running or on another host`,
    { hint: "only a stale lease may be broken; wait for its run to finish, or for the lease to expire" },
  );
}

/** A run's recorded options, or null (older runs, or an unreadable value). */
function parseOptions(value: unknown): Record<string, unknown> | null {
  if (typeof value !== "string" || value === "") return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function toStep(r: Row): StepRecord {
  return {
    runId: String(r.run_id),
    step: String(r.step),
    status: r.status as StepRecord["status"],
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    changed: r.changed === true || Number(r.changed) === 1,
    output: (r.output as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

/** Whether a process exists on this host (EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
