import { hostname, userInfo } from "node:os";
import { performance } from "node:perf_hooks";
import { KubecontrolError } from "../errors.js";
import { sleep } from "../wait.js";
import type { AcquireResult, Fence, HistoryStore, Lease } from "./types.js";

export interface HoldOptions {
  ttlMs: number;
  /**
   * How long before the lease's expiry, by this host's clock, the run stops counting it as held:
   * the longest a change sent now may take to land (a request's timeout, connecting included).
   * A change is only sent while the lease is valid for at least this long, so it lands before
   * another run may take over.
   */
  marginMs: number;
  /** Wait for the lease instead of failing at once (--wait-lock), up to this long. */
  waitMs?: number;
  signal?: AbortSignal;
  onWait?: (holder: Lease | undefined) => void;
  /** Called once when the lease is lost (renewal refused, expiry near): the run must stop acting. */
  onLost?: (err: KubecontrolError) => void;
  /** Called when a renewal failed but may still succeed (the store did not answer): a warning. */
  onRenewalFailed?: (err: unknown, validForMs: number) => void;
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
  /** Throws the lease error once the run can no longer prove it holds the lease (or has released it). */
  assertHeld(): void;
  /** Counts a change that passed `assertHeld` as in flight until the returned function is called. */
  inFlight(): () => void;
  /** The store refused a fenced write: the lease is lost (the run stops). */
  lost(err: KubecontrolError): void;
  /** The error the lease was lost with, if it was. */
  readonly lostWith: KubecontrolError | undefined;
  /**
   * Closes the gate for good, waits (up to the margin) for the changes in flight to be answered,
   * then gives the lease up, so nothing this run sent lands once another run may hold it.
   */
  release(): Promise<void>;
}

/**
 * Takes an app's lease (failing with LOCKED, or waiting with backoff when asked) and renews it
 * until released, three times per validity window (its lifetime less the margin). A renewal the
 * store refuses (another run took over) loses the lease at once; one that fails for another
 * reason (the store did not answer) is retried with backoff until the lease would no longer be
 * valid by this host's clock, and only then lost. Lost, `onLost` is called once and every
 * `assertHeld` throws: nothing more may be changed.
 */
export async function holdLease(store: HistoryStore, app: string, o: HoldOptions): Promise<HeldLease> {
  const windowMs = o.ttlMs - o.marginMs;
  if (windowMs <= 0)
    throw new KubecontrolError(
      "CONFIG_INVALID",
      `lockTimeout (${o.ttlMs / 1000}s) leaves no time to act: a change may take ${o.marginMs / 1000}s to land`,
    );
  const deadline = Date.now() + (o.waitMs ?? 0);
  // Validity is measured on the monotonic clock: a wall clock set back would stretch it.
  const now = () => performance.now();
  let acquired: AcquireResult | undefined;
  let sentAt = 0;
  let delay = 500;
  while (!acquired) {
    try {
      sentAt = now();
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
  // Measured from when the request was sent: the store's expiry is at least a lifetime later.
  let validUntil = sentAt + windowMs;
  let lostWith: KubecontrolError | undefined;
  let released = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  const releasedError = new KubecontrolError(
    "LOCKED",
    `this run has released its lease on ${app}: nothing more may be changed`,
    { hint: "this is a bug in kubecontrol (work went on after its run ended): please report it" },
  );
  let renewal: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const lose = (err: KubecontrolError) => {
    if (lostWith || released) return;
    lostWith = err;
    clearTimeout(renewal);
    clearTimeout(watchdog);
    o.onLost?.(err);
  };
  const expired = () =>
    new KubecontrolError(
      "LOCKED",
      `this run can no longer prove it holds the lease on ${app}: it was last renewed more than ${Math.round(windowMs / 1000)}s ago (lockTimeout less the ${Math.round(o.marginMs / 1000)}s a change may take to land)`,
      {
        hint: "the process was paused or the store did not answer; another run may have taken the lease over, so this one stopped before changing anything more",
        details: { app, token: lease.token },
      },
    );
  // A paused process wakes with this timer late: it loses the lease before anything else runs on.
  const watch = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => lose(expired()), Math.max(0, validUntil - now()));
    watchdog.unref();
  };
  const every = Math.max(100, Math.floor(windowMs / 3));
  const schedule = (ms: number) => {
    renewal = setTimeout(renew, ms);
    renewal.unref();
  };
  let failures = 0;
  async function renew(): Promise<void> {
    if (lostWith || released) return;
    if (now() >= validUntil) return lose(expired());
    const at = now();
    try {
      await store.renewLease(fence, o.ttlMs);
      if (lostWith || released) return;
      validUntil = at + windowMs;
      failures = 0;
      watch();
      schedule(every);
    } catch (err) {
      if (err instanceof KubecontrolError && err.code === "LOCKED") return lose(err);
      failures++;
      const left = validUntil - now();
      if (left <= 0) return lose(expired());
      o.onRenewalFailed?.(err, left);
      schedule(Math.min(left, 250 * 2 ** Math.min(failures, 6)));
    }
  }
  watch();
  schedule(every);

  return {
    lease,
    fence,
    tookOverFrom,
    get lostWith() {
      return lostWith;
    },
    assertHeld() {
      if (released) throw releasedError;
      if (!lostWith && now() >= validUntil) lose(expired());
      if (lostWith) throw lostWith;
    },
    inFlight() {
      inFlight++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        if (--inFlight === 0) for (const wake of idle.splice(0)) wake();
      };
    },
    lost: lose,
    async release() {
      released = true;
      clearTimeout(renewal);
      clearTimeout(watchdog);
      if (inFlight > 0)
        await Promise.race([
          new Promise<void>((resolve) => idle.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, o.marginMs).unref()),
        ]);
      await store.releaseLease(fence);
    },
  };
}
