import type { FaultKind } from "./faults.js";

/** Per `service:Operation`: calls received, and faults injected by kind. */
export interface CallCountsSnapshot {
  total: number;
  calls: Record<string, number>;
  faults: Record<string, Partial<Record<FaultKind, number>>>;
}

class Tally {
  calls = new Map<string, number>();
  faults = new Map<string, Partial<Record<FaultKind, number>>>();
  total = 0;
}

function sorted<T>(m: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Counts every AWS call that reaches the proxy, retries included, in all and per access key
 * id: tests that run at once each sign with a key of their own and read exact counts for it.
 */
export class CallCounts {
  private all = new Tally();
  private byKey = new Map<string, Tally>();

  private tallies(accessKeyId: string | undefined): Tally[] {
    if (!accessKeyId) return [this.all];
    let tally = this.byKey.get(accessKeyId);
    if (!tally) {
      tally = new Tally();
      this.byKey.set(accessKeyId, tally);
    }
    return [this.all, tally];
  }

  /** Records one call. */
  record(service: string, operation: string, accessKeyId?: string): void {
    const key = `${service}:${operation}`;
    for (const t of this.tallies(accessKeyId)) {
      t.calls.set(key, (t.calls.get(key) ?? 0) + 1);
      t.total += 1;
    }
  }

  /** Records a fault injected into one call. */
  recordFault(service: string, operation: string, kind: FaultKind, accessKeyId?: string): void {
    const key = `${service}:${operation}`;
    for (const t of this.tallies(accessKeyId)) {
      const byKind = t.faults.get(key) ?? {};
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      t.faults.set(key, byKind);
    }
  }

  /** A sorted, JSON-ready copy: of every call, or of those signed with one access key id. */
  snapshot(accessKeyId?: string): CallCountsSnapshot {
    const t = accessKeyId ? (this.byKey.get(accessKeyId) ?? new Tally()) : this.all;
    return { total: t.total, calls: sorted(t.calls), faults: sorted(t.faults) };
  }

  /** Forgets what was counted: everything, or one access key id's calls. */
  reset(accessKeyId?: string): void {
    if (accessKeyId) {
      this.byKey.delete(accessKeyId);
      return;
    }
    this.all = new Tally();
    this.byKey.clear();
  }
}
