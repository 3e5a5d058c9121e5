import { hostname, userInfo } from "node:os";
import { sleep } from "../engine/wait-until.js";
import { KubecontrolError } from "../errors.js";
import type { AcquireResult, Fence, HistoryStore, Lease } from "./types.js";

export interface HoldOptions {
  ttlMs: number;
  /** Wait for the lease instead of failing at once (--wait-lock), up to this long. */
  waitMs?: number;
  signal?: AbortSignal;
  onWait?: (holder: Lease | undefined) => void;
  /** Called when a renewal fails: the run must stop acting. */
  onLost?: (err: KubecontrolError) => void;
}

/** `user@host`, as history and leases name people. */
export function whoAmI(): string {
  return `${userInfo().username}@${hostname()}`;
}

/** A held lease with its heartbeat; `fence` goes with every write the run makes. */
export interface HeldLease {
  lease: Lease;
  fence: Fence;
  tookOverFrom: Lease | undefined;
  release(): Promise<void>;
}

/**
 * Takes an app's lease (failing with LOCKED, or waiting with backoff when asked) and renews it
 * every third of its lifetime until released. A renewal refused because another run took over
 * calls `onLost`, so the run stops before it can act on the app.
 */
export async function holdLease(store: HistoryStore, app: string, o: HoldOptions): Promise<HeldLease> {
  const deadline = Date.now() + (o.waitMs ?? 0);
  let acquired: AcquireResult | undefined;
  let delay = 500;
  while (!acquired) {
    try {
      acquired = await store.acquireLease(app, {
        owner: whoAmI(),
        host: hostname(),
        pid: process.pid,
        ttlMs: o.ttlMs,
      });
    } catch (err) {
      if (
        !(err instanceof KubecontrolError) ||
        err.code !== "LOCKED" ||
        Date.now() >= deadline ||
        o.signal?.aborted
      )
        throw err;
      o.onWait?.(await store.currentLease(app));
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), o.signal);
      delay = Math.min(delay * 2, 5000);
    }
  }
  const { lease, tookOverFrom } = acquired;
  const fence: Fence = { app, token: lease.token };
  const timer = setInterval(
    () => {
      store.renewLease(fence, o.ttlMs).catch((err: unknown) => {
        clearInterval(timer);
        o.onLost?.(err instanceof KubecontrolError ? err : new KubecontrolError("LOCKED", String(err)));
      });
    },
    Math.max(100, Math.floor(o.ttlMs / 3)),
  );
  timer.unref();
  return {
    lease,
    fence,
    tookOverFrom,
    async release() {
      clearInterval(timer);
      await store.releaseLease(fence);
    },
  };
}
