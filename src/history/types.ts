/** Deployment records and leases: what everyone who deploys from this host shares. */

/** `interrupted`: its process stopped mid-run (killed, host gone); closed by the run that took over its lease. */
export type RunResult = "running" | "succeeded" | "failed" | "cancelled" | "no-op" | "interrupted";

/** What started a run: a person at a terminal or a script, or cron (src/history/trigger.ts). */
export type RunTrigger = "person" | "cron";

/** The commands whose runs deploy a version (a run of one to a version the app ran before is a rollback). */
export const DEPLOY_COMMANDS = ["create", "update", "rollout", "switch"] as const;

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
  /** Who or what started it; null for runs recorded before the store kept it (schema version 3). */
  trigger: RunTrigger | null;
  /** The subject line of the version's commit message (untrusted text: escape it), when known. */
  subject: string | null;
}

/** A run as it is recorded when it starts. */
export type NewRun = Omit<
  RunRecord,
  "finishedAt" | "result" | "error" | "options" | "trigger" | "subject"
> & {
  options?: Record<string, unknown> | null;
  trigger?: RunTrigger | null;
  subject?: string | null;
};

/** A run as a page of history shows it: labelled a rollback when it deployed a version the app ran before. */
export interface ListedRun extends RunRecord {
  /**
   * A deploy (DEPLOY_COMMANDS) to a version an earlier successful deploy of the app ran, other
   * than the version the app's last successful deploy before it ran.
   */
  rollback: boolean;
}

/** One page of runs, newest first; `next` is the cursor of the page after it, null on the last. */
export interface RunPage {
  runs: ListedRun[];
  next: string | null;
}

/** Something done to an app from outside a run (the console's switch, a stale lease broken): who, and why. */
export interface ActionRecord {
  at: number;
  app: string;
  action: "break-lease" | "switch" | string;
  who: string;
  why: string;
  /** What it acted on (the lease's holder and token, the colour switched to). */
  detail: string | null;
  result: "succeeded" | "failed" | "refused" | string;
}

/** What breaking a stale lease did. */
export interface BrokenLease {
  lease: Lease;
  /** The runs it held that were still `running`, now closed as interrupted. */
  interrupted: string[];
}

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
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms). */
  until?: number;
  result?: RunResult;
  command?: string;
  /** A part of `who`, case-insensitive. */
  who?: string;
  /** The start of the version (an abbreviated commit). */
  version?: string;
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
/** Who breaks a stale lease, why, and which lease (its token) they saw. */
export interface BreakLeaseOptions {
  token: number;
  who: string;
  why: string;
  host: string;
  now?: number;
  isAlive?: (pid: number) => boolean;
}

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
  /**
   * One page of runs matching `filter` (`limit` runs, default 50), newest first, after the cursor
   * `after` (a previous page's `next`); a cursor that is not one is refused (USAGE).
   */
  pageRuns(filter: RunFilter, after?: string): Promise<RunPage>;
  /**
   * Removes an app's lease when it is stale (expired, or its holder's process is gone on this
   * host) and still the one with `token`, closes the runs it held as interrupted, and logs it
   * (`broken`, with who and why). Refuses (LOCKED) a live lease, and (NOT_FOUND) one that is
   * gone or was replaced.
   */
  breakLease(app: string, o: BreakLeaseOptions): Promise<BrokenLease>;
  /** Records an action done from outside a run (the console's), for the app's audit trail. */
  recordAction(a: ActionRecord): Promise<void>;
  /** The app's recorded actions, newest first. */
  listActions(app: string, limit?: number): Promise<ActionRecord[]>;
  close(): Promise<void>;
}
