import { KubecontrolError, toKubecontrolError } from "../errors.js";
import { sleep } from "../wait.js";

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Whether an error is worth another attempt; only known-transient ones should be. */
  retryable: (err: unknown) => boolean;
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
}

/** Calls `fn` until it succeeds, a non-retryable error is thrown, or attempts run out. Full jitter, capped. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const base = o.baseDelayMs ?? 200;
  const cap = o.maxDelayMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.attempts || !o.retryable(err)) throw err;
      if (o.signal?.aborted)
        throw new KubecontrolError("CANCELLED", "cancelled while retrying", {
          cause: toKubecontrolError(err),
        });
      const delayMs = Math.round(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
      o.onRetry?.(attempt, err, delayMs);
      await sleep(delayMs, o.signal);
      if (o.signal?.aborted)
        throw new KubecontrolError("CANCELLED", "cancelled while retrying", {
          cause: toKubecontrolError(err),
        });
    }
  }
}
