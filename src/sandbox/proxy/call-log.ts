import { createHash } from "node:crypto";
import type { FaultKind } from "./faults.js";

/** One call of a logged access key: its order, what it was, which attempt, and its fault. */
export interface LoggedCall {
  seq: number;
  op: string;
  /** A short hash of what the call acts on (path and body without idempotency tokens). */
  resource: string;
  attempt: number;
  fault?: FaultKind;
}

const MAX_CALLS_PER_KEY = 50_000;
const MAX_KEYS = 64;

/**
 * The calls of each access key that has fault rules of its own, in order, so a harness can
 * tell what became of every fault it injected (the same call made again, a read that found
 * the change, or nothing). Bounded: the oldest keys and calls are dropped first.
 */
export class CallLog {
  private byKey = new Map<string, LoggedCall[]>();
  private seq = 0;

  record(accessKeyId: string, call: Omit<LoggedCall, "seq" | "resource"> & { resource: string }): void {
    let calls = this.byKey.get(accessKeyId);
    if (!calls) {
      if (this.byKey.size >= MAX_KEYS) this.byKey.delete(this.byKey.keys().next().value as string);
      calls = [];
      this.byKey.set(accessKeyId, calls);
    }
    if (calls.length >= MAX_CALLS_PER_KEY) calls.shift();
    const resource = createHash("sha256").update(call.resource).digest("hex").slice(0, 16);
    calls.push({ ...call, resource, seq: ++this.seq });
  }

  calls(accessKeyId: string): LoggedCall[] {
    return this.byKey.get(accessKeyId) ?? [];
  }

  reset(accessKeyId?: string): void {
    if (accessKeyId) this.byKey.delete(accessKeyId);
    else this.byKey.clear();
  }
}
