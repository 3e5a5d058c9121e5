import { KubecontrolError } from "../errors.js";
import type { Lease, RunRecord, RunResult, StepRecord } from "./types.js";

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
  };
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
