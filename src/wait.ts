import { KubecontrolError } from "./errors.js";

export interface WaitUntilOptions {
  /** What is being waited for, in words ("cluster kc-hello-blue to be ACTIVE"). */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** First delay between polls; doubles up to maxDelayMs, with ±20% jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called with the latest state description before each sleep. */
  onPoll?: (state: string, attempt: number) => void;
}

/** A poll's answer: done (with a value), or not yet (and the state seen, for the heartbeat). */
export type PollResult<T> = { done: true; value: T } | { done: false; state: string };

/**
 * Polls a condition with capped exponential backoff and jitter until it holds, the deadline
 * passes (TIMEOUT naming what and the last state seen), or the signal aborts (CANCELLED).
 */
export async function waitUntil<T>(poll: () => Promise<PollResult<T>>, o: WaitUntilOptions): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let delay = o.initialDelayMs ?? 1000;
  const maxDelay = o.maxDelayMs ?? 15_000;
  let last = "not checked yet";
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new KubecontrolError("CANCELLED", `stopped waiting for ${o.what}`);
    const result = await poll();
    if (result.done) return result.value;
    last = result.state;
    o.onPoll?.(last, attempt);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new KubecontrolError(
        "TIMEOUT",
        `timed out after ${Math.round(o.timeoutMs / 1000)}s waiting for ${o.what} (last seen: ${last})`,
        {
          retryable: true,
          details: { what: o.what, last },
        },
      );
    }
    const jittered = delay * (0.8 + Math.random() * 0.4);
    await sleep(Math.min(jittered, remaining), o.signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** Sleeps, waking early (without throwing) when the signal aborts; the caller checks the signal. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
