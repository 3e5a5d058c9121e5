import type { FaultKind } from "./faults.js";

/** Per `service:Operation`: calls received, and faults injected by kind. */
export interface CallCountsSnapshot {
  total: number;
  calls: Record<string, number>;
  faults: Record<string, Partial<Record<FaultKind, number>>>;
}

/** Counts every AWS call that reaches the proxy, retries included. */
export class CallCounts {
  private calls = new Map<string, number>();
  private faults = new Map<string, Partial<Record<FaultKind, number>>>();
  private total = 0;

  /** Records one call. */
  record(service: string, operation: string): void {
    const key = `${service}:${operation}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    this.total += 1;
  }

  /** Records a fault injected into one call. */
  recordFault(service: string, operation: string, kind: FaultKind): void {
    const key = `${service}:${operation}`;
    const byKind = this.faults.get(key) ?? {};
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    this.faults.set(key, byKind);
  }

  /** A sorted, JSON-ready copy. */
  snapshot(): CallCountsSnapshot {
    const sorted = <T>(m: Map<string, T>) =>
      Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return { total: this.total, calls: sorted(this.calls), faults: sorted(this.faults) };
  }

  /** Forgets everything counted so far. */
  reset(): void {
    this.calls.clear();
    this.faults.clear();
    this.total = 0;
  }
}
