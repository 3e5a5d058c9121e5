/** Deployment records and leases: what everyone who deploys from this host shares. */

/** `interrupted`: its process stopped mid-run (killed, host gone); closed by the run that took over its lease. */
export type RunResult = "running" | "succeeded" | "failed" | "cancelled" | "no-op" | "interrupted";

export interface RunRecord {
  id: string;
  app: string;
  command: string;
  /** user@host of whoever ran it. */
  who: string;
  version: string | null;
  colour: string | null;
  planHash: string | null;
  startedAt: number;
  finishedAt: number | null;
  result: RunResult;
  /** The error's code and message when the run failed; never secrets. */
  error: string | null;
  /** The flags it was started with beyond version and colour (keepOld, drainMs, force), for resume. */
  options: Record<string, unknown> | null;
}

/** A run as it is recorded when it starts. */
export type NewRun = Omit<RunRecord, "finishedAt" | "result" | "error" | "options"> & {
  options?: Record<string, unknown> | null;
};

export type StepStatus = "running" | "succeeded" | "failed" | "skipped" | "cancelled";

/** One journal entry: written before a step acts and again after, with what it made. */
export interface StepRecord {
  runId: string;
  step: string;
  status: StepStatus;
  startedAt: number;
  finishedAt: number | null;
  changed: boolean;
  /** What the step made or adopted (ids, ARNs), as JSON text. */
  output: string | null;
  error: string | null;
}

export interface Lease {
  app: string;
  owner: string;
  host: string;
  pid: number;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
  /** Fencing token: grows by one at every acquisition; writes carrying an older one are refused. */
  token: number;
}

/** One line of an app's lease log. */
export interface LeaseEvent {
  at: number;
  event: "acquired" | "took-over" | "released" | string;
  owner: string;
  token: number;
  detail: string | null;
}

/** Proof of holding an app's lease, carried by every write a run makes. */
export interface Fence {
  app: string;
  token: number;
}

export interface RunFilter {
  app?: string;
  since?: number;
  result?: RunResult;
  limit?: number;
}

export interface AcquireOptions {
  owner: string;
  host: string;
  pid: number;
  ttlMs: number;
  now?: number;
  /** Whether a process id on this host is still alive (take-over is immediate when it is not). */
  isAlive?: (pid: number) => boolean;
}

export interface AcquireResult {
  lease: Lease;
  /** The lease this one replaced, when its owner died or it expired. */
  tookOverFrom: Lease | undefined;
}

/** The shared store: SQLite on one host by default, PostgreSQL for a fleet (same interface). */
export interface HistoryStore {
  acquireLease(app: string, o: AcquireOptions): Promise<AcquireResult>;
  renewLease(fence: Fence, ttlMs: number, now?: number): Promise<Lease>;
  releaseLease(fence: Fence): Promise<void>;
  currentLease(app: string): Promise<Lease | undefined>;
  /** The app's lease events, oldest first (acquired, took-over, released). */
  leaseLog(app: string): Promise<LeaseEvent[]>;

  startRun(run: NewRun, fence: Fence): Promise<void>;
  finishRun(
    id: string,
    result: Exclude<RunResult, "running">,
    error: string | null,
    fence: Fence,
    now?: number,
  ): Promise<void>;
  recordStep(step: StepRecord, fence: Fence): Promise<void>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  getRun(id: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined>;
  close(): Promise<void>;
}
