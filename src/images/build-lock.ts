import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { KubecontrolError } from "../errors.js";
import { waitUntil } from "../wait.js";

/** A held build lock; `release` is idempotent. */
export interface BuildLock {
  release(): void;
}

export interface AcquireOptions {
  /** Directory holding the lock files (the operator's stateDir/locks/images). */
  dir: string;
  /** What is locked, e.g. `<repository>:<commit>`. */
  key: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called once when another process holds the lock and this one starts waiting. */
  onWait?: () => void;
}

/**
 * Takes the machine-wide lock for `key`, waiting while another process holds it. It is an
 * exclusive transaction on a SQLite file of its own: the lock is the operating system's
 * (fcntl), so it dies with its holder and needs no stale-pid detection. The files are never
 * deleted: unlinking one while a waiter has it open would let two holders in.
 */
export async function acquireBuildLock(o: AcquireOptions): Promise<BuildLock> {
  ensureSharedDir(o.dir);
  const file = path.join(o.dir, `${createHash("sha256").update(o.key).digest("hex").slice(0, 32)}.lock`);
  const { default: Database } = await import("better-sqlite3");
  const created = !existsSync(file);
  const db: BetterSqlite3.Database = new Database(file);
  // Everyone who deploys from this host (the state directory's group) must be able to take it.
  if (created) bestEffort(() => chmodSync(file, 0o660));
  // No busy wait inside SQLite: it would block the event loop; waitUntil polls instead.
  db.pragma("busy_timeout = 0");
  let waiting = false;
  try {
    await waitUntil(
      async () => {
        try {
          db.exec("BEGIN EXCLUSIVE");
          return { done: true, value: undefined };
        } catch (err) {
          if ((err as { code?: string }).code !== "SQLITE_BUSY") throw err;
          if (!waiting) {
            waiting = true;
            o.onWait?.();
          }
          return { done: false, state: `another process is building ${o.key}` };
        }
      },
      {
        what: `the build of ${o.key} by another process`,
        timeoutMs: o.timeoutMs,
        initialDelayMs: 100,
        maxDelayMs: 1000,
        ...(o.signal ? { signal: o.signal } : {}),
      },
    );
  } catch (err) {
    db.close();
    if (err instanceof KubecontrolError && err.code === "TIMEOUT") {
      throw new KubecontrolError("LOCKED", `${o.key} is still being built by another process`, {
        hint: "wait for the other build to finish, then run the command again",
        retryable: true,
        cause: err,
      });
    }
    throw err;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec("COMMIT");
      } finally {
        db.close();
      }
    },
  };
}

/** The lock directory, group-shared like the state directory (setgid, so files keep its group). */
function ensureSharedDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  bestEffort(() => chmodSync(dir, 0o2770));
}

/** A permission change another user's file refuses is not worth failing a build for. */
function bestEffort(f: () => void): void {
  try {
    f();
  } catch {
    // EPERM: not ours.
  }
}
