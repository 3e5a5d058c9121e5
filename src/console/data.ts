import {
  DEPLOY_COMMANDS,
  type HistoryStore,
  type RunFilter,
  type RunRecord,
  type StepRecord,
} from "../history/types.js";
import type { FleetEntry, FleetView } from "./fleet.js";

/**
 * What the console's pages and its JSON API show, read from the store and the fleet source.
 * The pages render these objects; /api/v1 returns them as they are (text scrubbed on the way out).
 */

/** Whether an app needs someone to look: not healthy (absent apps never deployed do not count), or its last run did not succeed. */
export function needsAttention(e: FleetEntry): boolean {
  const s = e.status;
  if (s.health !== "healthy" && s.health !== "absent") return true;
  return s.lastRun !== undefined && ["failed", "interrupted", "cancelled"].includes(s.lastRun.result);
}

/** The fleet page's filters, as its URL keeps them. */
export interface FleetFilter {
  health?: string | undefined;
  attention?: boolean;
}

export function fleetFilterOf(q: URLSearchParams): FleetFilter {
  return { health: q.get("health") || undefined, attention: q.get("attention") === "1" };
}

export interface FleetData {
  view: FleetView;
  filter: FleetFilter;
  shown: FleetEntry[];
  /** How many apps of each health, and how many need attention (over the whole fleet). */
  counts: Record<string, number>;
  attention: number;
}

export function fleetData(view: FleetView, filter: FleetFilter): FleetData {
  const counts: Record<string, number> = {};
  for (const e of view.apps) counts[e.status.health] = (counts[e.status.health] ?? 0) + 1;
  const shown = view.apps.filter(
    (e) => (!filter.health || e.status.health === filter.health) && (!filter.attention || needsAttention(e)),
  );
  return { view, filter, shown, counts, attention: view.apps.filter(needsAttention).length };
}

const isDeploy = (r: RunRecord) => (DEPLOY_COMMANDS as readonly string[]).includes(r.command);

export interface AppData {
  name: string;
  entry: FleetEntry | undefined;
  runs: Awaited<ReturnType<HistoryStore["pageRuns"]>>;
  /** The version of the app's last successful deploy, and that run. */
  lastGood: RunRecord | undefined;
  lease: Awaited<ReturnType<HistoryStore["currentLease"]>>;
  actions: Awaited<ReturnType<HistoryStore["listActions"]>>;
}

export async function appData(store: HistoryStore, view: FleetView, name: string): Promise<AppData> {
  const [runs, good, lease, actions] = await Promise.all([
    store.pageRuns({ app: name, limit: 10 }),
    store.listRuns({ app: name, result: "succeeded", limit: 50 }),
    store.currentLease(name),
    store.listActions(name, 10),
  ]);
  return {
    name,
    entry: view.apps.find((e) => e.status.app === name),
    runs,
    lastGood: good.find((r) => isDeploy(r) && r.version),
    lease,
    actions,
  };
}

export const RESULTS = ["running", "succeeded", "failed", "cancelled", "no-op", "interrupted"] as const;
export const COMMANDS = ["create", "update", "rollout", "teardown", "gc", "switch", "destroy"] as const;

/** The history page's filters as the URL carries them (all optional); a bad one is a message, not a 500. */
export interface HistoryQuery {
  filter: RunFilter;
  after: string | undefined;
  /** The filters' text as given, to refill the form and build links. */
  params: Record<string, string | undefined>;
  problems: string[];
}

export function historyQueryOf(q: URLSearchParams): HistoryQuery {
  const params: Record<string, string | undefined> = {};
  for (const k of ["app", "result", "command", "who", "version", "since", "until"])
    params[k] = q.get(k)?.trim() || undefined;
  const problems: string[] = [];
  const filter: RunFilter = { limit: 50 };
  if (params.app) filter.app = params.app;
  if (params.who) filter.who = params.who;
  if (params.version) filter.version = params.version;
  if (params.result) {
    if ((RESULTS as readonly string[]).includes(params.result))
      filter.result = params.result as RunFilter["result"];
    else problems.push(`result: expected one of ${RESULTS.join(", ")}`);
  }
  if (params.command) {
    if ((COMMANDS as readonly string[]).includes(params.command)) filter.command = params.command;
    else problems.push(`command: expected one of ${COMMANDS.join(", ")}`);
  }
  for (const k of ["since", "until"] as const) {
    const v = params[k];
    if (!v) continue;
    // datetime-local gives "2026-05-01T12:00" (taken as UTC, as every time on the console is).
    const at = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
    if (Number.isNaN(at))
      problems.push(`${k}: expected a date and time such as 2026-05-01T12:00, found "${v}"`);
    else filter[k] = at;
  }
  const after = q.get("after") || undefined;
  return { filter, after, params, problems };
}

/** A step of a run as the timeline and the live stream show it. */
export interface StepView {
  step: string;
  status: StepRecord["status"];
  startedAt: number;
  finishedAt: number | null;
  changed: boolean;
  error: string | null;
  summary: string | null;
}

export function stepView(s: StepRecord): StepView {
  let summary: string | null = null;
  if (s.output) {
    try {
      const o = JSON.parse(s.output) as { summary?: unknown };
      summary = typeof o.summary === "string" ? o.summary : s.output;
    } catch {
      summary = s.output;
    }
  }
  return {
    step: s.step,
    status: s.status,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    changed: s.changed,
    error: s.error,
    summary,
  };
}

/** A run's state as the live page needs it: its steps, result, and whether it has stopped reporting. */
export interface RunLive {
  id: string;
  result: RunRecord["result"];
  startedAt: number;
  finishedAt: number | null;
  steps: StepView[];
  /** When this was read (server's clock). */
  asOf: number;
  /** A running run whose lease is gone, expired or not renewed for half its lifetime: it stopped reporting. */
  stale: boolean;
}

export async function runLive(store: HistoryStore, id: string): Promise<RunLive | undefined> {
  const got = await store.getRun(id);
  if (!got) return undefined;
  const now = Date.now();
  let stale = false;
  if (got.run.result === "running") {
    const lease = await store.currentLease(got.run.app);
    stale =
      !lease ||
      lease.expiresAt <= now ||
      now - lease.heartbeatAt > Math.max(10_000, (lease.expiresAt - lease.heartbeatAt) / 2);
  }
  return {
    id,
    result: got.run.result,
    startedAt: got.run.startedAt,
    finishedAt: got.run.finishedAt,
    steps: got.steps.map(stepView),
    asOf: now,
    stale,
  };
}

/** What the run page shows beyond the run itself. */
export interface RunData {
  run: RunRecord;
  live: RunLive;
  host: string;
  /** The version the app ran before (its last successful deploy before this run). */
  fromVersion: string | null;
  rollback: boolean;
  firstError: { where: string; text: string; hint: string | undefined } | undefined;
  events: { at: number; text: string }[];
  previous: { run: RunRecord; changedSteps: string[] } | undefined;
  changedSteps: string[];
}

/** Hints by error code, for the error on top of a run (the store keeps the code and message, not the hint). */
const HINTS: Record<string, string> = {
  LOCKED:
    "another run held the app's lease; kubecontrol history shows it. Run again once it finished, or with --wait-lock",
  PREFLIGHT_FAILED: "nothing was changed: fix what preflight names and run the command again",
  VERIFY_FAILED:
    "DNS was not moved to the new colour; fix the cause and run the command again, or tear the new colour down",
  STEP_FAILED:
    "fix the cause and run the same command again (or kubecontrol resume <app>): it continues from what exists",
  CANCELLED: "run the same command again (or kubecontrol resume <app>) to continue from where it stopped",
  INTERRUPTED: "its process stopped; the next run on the app took over or will: kubecontrol resume <app>",
  NOT_OWNED: "a resource with one of the app's names is not the app's; nothing was changed",
  AWS: "AWS refused a call: check the credentials and the message, then run again",
  TIMEOUT: "something did not become ready in time; run again once the cause is fixed",
};

export async function runData(store: HistoryStore, id: string): Promise<RunData | undefined> {
  const [got, live] = await Promise.all([store.getRun(id), runLive(store, id)]);
  if (!got || !live) return undefined;
  const { run, steps } = got;
  const [before, succeeded, leaseLog] = await Promise.all([
    store.listRuns({ app: run.app, until: run.startedAt, limit: 1 }),
    store.listRuns({ app: run.app, until: run.startedAt, result: "succeeded", limit: 500 }),
    store.leaseLog(run.app),
  ]);
  const deploys = succeeded.filter((r) => isDeploy(r) && r.version);
  const fromVersion = deploys[0]?.version ?? null;
  const rollback =
    isDeploy(run) &&
    run.version !== null &&
    run.version !== fromVersion &&
    deploys.some((r) => r.version === run.version);
  const failedStep = steps.find((s) => s.status === "failed");
  const errorText = run.error ?? failedStep?.error ?? null;
  const code = errorText ? /^([A-Z_]+):/.exec(errorText)?.[1] : undefined;
  const firstError = errorText
    ? {
        where:
          failedStep && !run.error
            ? failedStep.step
            : failedStep
              ? `${failedStep.step} (${run.command})`
              : run.command,
        text: errorText,
        hint: code ? HINTS[code]?.replace("<app>", run.app) : undefined,
      }
    : undefined;
  const end = run.finishedAt ?? Date.now();
  const events = [
    ...steps.flatMap((s) => {
      const v = stepView(s);
      const out = [{ at: s.startedAt, text: `${s.step} started` }];
      if (s.finishedAt !== null)
        out.push({
          at: s.finishedAt,
          text: `${s.step} ${s.status}${s.changed ? " (changed)" : ""}${v.error ? `: ${v.error}` : v.summary ? `: ${v.summary}` : ""}`,
        });
      return out;
    }),
    ...leaseLog
      .filter((e) => e.at >= run.startedAt - 1000 && e.at <= end + 1000)
      .map((e) => ({
        at: e.at,
        text: `lease ${e.event} by ${e.owner} (token ${e.token})${e.detail ? `: ${e.detail}` : ""}`,
      })),
    { at: run.startedAt, text: `${run.command} started by ${run.who}` },
    ...(run.finishedAt !== null
      ? [{ at: run.finishedAt, text: `${run.command} ${run.result}${run.error ? `: ${run.error}` : ""}` }]
      : []),
  ].sort((a, b) => a.at - b.at);
  const prev = before[0];
  const changedSteps = steps.filter((s) => s.changed).map((s) => s.step);
  const previous = prev
    ? {
        run: prev,
        changedSteps: ((await store.getRun(prev.id))?.steps ?? [])
          .filter((s) => s.changed)
          .map((s) => s.step),
      }
    : undefined;
  return {
    run,
    live,
    host: run.who.includes("@") ? run.who.slice(run.who.lastIndexOf("@") + 1) : "-",
    fromVersion,
    rollback,
    firstError,
    events,
    previous,
    changedSteps,
  };
}
