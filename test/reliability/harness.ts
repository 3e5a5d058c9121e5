import path from "node:path";
import type { Plan } from "../../src/plan/plan.js";
import { planApp } from "../../src/plan/plan.js";
import { adminCall } from "../../src/sandbox/admin-client.js";
import type { LoggedCall } from "../../src/sandbox/proxy/call-log.js";
import { loadApp } from "../../src/spec/loader.js";
import { inventory } from "../aws/inventory.js";
import type { E2eProject } from "../helpers/e2e-project.js";
import { type CliRun, type HistoryRun, mutatingCalls, READ_ONLY, spawnCli } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

/**
 * The reliability harness: the promises "a run can die anywhere and nothing is lost or leaked",
 * "two runs never act at once" and "AWS misbehaving is survived", proven against real CLI
 * processes and the sandbox. It learns the failpoints a command reaches from the command itself
 * (each killed run names its point), never from a list, so renamed steps need no change here.
 * test/reliability/reliability.test.ts runs its short form in the suite; `npm run reliability`
 * (bench/reliability.ts) runs the full form and prints the tables.
 */

/** A seeded pseudo-random sequence (mulberry32): the same seed, the same kills. */
export function seeded(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KILLED = /failpoint (\S+): killing the process/;

/** One command's row of the crash matrix. */
export interface CrashRow {
  command: string;
  /** Failpoints the command reached, each killed once (the point names, as the runs said them). */
  points: string[];
  /** Runs SIGKILLed at a seeded random time between failpoints (a run that got further first is not counted). */
  randomKills: number;
  /** Re-runs that were `resume` rather than the command itself. */
  resumes: number;
  /** Processes it took in all, the last one completing. */
  runs: number;
  /** Points killed at, by phase. */
  byPhase: Record<string, number>;
}

export interface CrashOptions {
  seed: string;
  /** Runs of the walk (every third) that also get a SIGKILL at a seeded random time. */
  randomKills: number;
  /** Up to how long after a run's start its random kill comes. */
  randomWithinMs: number;
  /** Arms about one point in `every` (the short form); every point when unset. */
  every?: number;
  /** Every other re-run after a failpoint kill is `resume <app>` instead of the command. */
  resume?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `args` until it completes, SIGKILLing it at every failpoint it reaches, one new point per
 * run: every point not yet hit is armed (KUBECONTROL_FAILPOINTS=* with the hit ones skipped), so
 * each run stops at the next new one, until a run reaches none and completes. Every third run,
 * while random kills are left, has no failpoint armed and is SIGKILLed by a timer at a seeded
 * random time instead (a kill between points, while the run does real work; one that completes
 * first ends the walk). The command is run once more at the end, and must complete too. A
 * run that fails instead is a finding: it throws, with the run's output and the points so far.
 */
export async function crashMatrix(p: E2eProject, args: string[], o: CrashOptions): Promise<CrashRow> {
  const random = seeded(`${o.seed}:${args.join(" ")}`);
  let runs = 0;
  let randomKills = 0;
  let randomLeft = o.randomKills;
  let resumes = 0;
  const hit: string[] = [];
  // a run killed before it was recorded (destroy lists what is live first) leaves resume nothing
  let nothingToResume = false;
  for (;;) {
    if (runs > 600) throw new Error(`${args.join(" ")}: more than 600 runs without completing`);
    const viaResume = o.resume === true && hit.length % 2 === 1 && !nothingToResume;
    nothingToResume = false;
    const withTimer = randomLeft > 0 && runs % 3 === 1;
    // a timer run has no failpoint armed: only the timer kills it, wherever it has got to
    const cli = spawnCli(viaResume ? ["resume", p.app, "--yes"] : args, {
      cwd: p.root,
      env: {
        ...p.env,
        ...o.env,
        ...(withTimer
          ? {}
          : {
              KUBECONTROL_FAILPOINTS: "*",
              KUBECONTROL_FAILPOINTS_SKIP: hit.join(","),
              ...(o.every ? { KUBECONTROL_FAILPOINTS_EVERY: `${o.every}:${o.seed}` } : {}),
            }),
      },
      accessKeyId: testAccessKeyId(),
    });
    const timer = withTimer
      ? setTimeout(() => process.kill(cli.pid, "SIGKILL"), 300 + Math.round(random() * o.randomWithinMs))
      : undefined;
    const r = await cli.done;
    clearTimeout(timer);
    runs++;
    if (viaResume) resumes++;
    if (withTimer) randomLeft--;
    const point = KILLED.exec(r.stderr)?.[1];
    if (r.signal === "SIGKILL" && point) {
      hit.push(point);
      continue;
    }
    if (r.signal === "SIGKILL" && withTimer) {
      randomKills++;
      continue;
    }
    if (r.status !== 0)
      throw finding(args, `the run after ${hit.length} kill(s) (${hit.join(" ")}) failed`, r);
    if (viaResume && /nothing to resume/.test(r.stderr)) {
      resumes--;
      nothingToResume = true;
      continue;
    }
    break;
  }
  const last = await p.kubecontrol(args, { env: o.env });
  runs++;
  if (last.status !== 0) throw finding(args, "the command, run again once complete, failed", last);
  const byPhase: Record<string, number> = {};
  for (const point of hit) {
    const phase = point.slice(point.lastIndexOf(":") + 1);
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
  }
  return { command: args[0]!, points: hit, randomKills, resumes, runs, byPhase };
}

function finding(args: string[], what: string, r: CliRun): Error {
  return new Error(
    `${args.join(" ")}: ${what} (exit ${r.status}, signal ${r.signal}):\n${r.stderr.slice(-4000)}`,
  );
}

/** The plans of both colours of the project's app (names and tags; any version). */
export async function plansOf(p: E2eProject): Promise<Record<"blue" | "green", Plan>> {
  const { app } = await loadApp(path.join(p.root, "apps"), p.app);
  return {
    blue: planApp({ app, colour: "blue", version: "harness" }),
    green: planApp({ app, colour: "green", version: "harness" }),
  };
}

/**
 * How many of each planned resource the AWS CLI finds, per logical id; `scope` picks which:
 * the colour's only, or the app-scoped ones too. One means the run made it exactly once.
 */
export async function counts(
  p: E2eProject,
  plan: Plan,
  scope: "colour" | "all",
): Promise<Record<string, number>> {
  const seen = await inventory(p.sbx, plan);
  return Object.fromEntries(
    plan.aws
      .filter((r) => scope === "all" || r.scope === "colour")
      .map((r) => [r.id, seen.get(r.id)?.length ?? 0]),
  );
}

/** The app's runs as `history -o json` shows them, oldest first. */
export async function history(p: E2eProject, env: NodeJS.ProcessEnv = {}): Promise<HistoryRun[]> {
  const r = await p.kubecontrol(["history", p.app, "-o", "json", "--limit", "2000"], { env });
  if (r.status !== 0) throw finding(["history"], "history failed", r);
  return (JSON.parse(r.stdout) as { runs: HistoryRun[] }).runs.reverse();
}

/** Runs of `command` whose result is not closed (running): none may be left. */
export function unclosed(runs: HistoryRun[]): HistoryRun[] {
  return runs.filter((r) => r.result === "running");
}

/** One process of a contention round: what it ran, how it ended, and whether it changed AWS. */
export interface Contender {
  args: string[];
  status: number;
  acted: boolean;
  run: CliRun;
}

/**
 * Starts every command at once (each under its own access key) and waits for them all. A
 * process acted when the proxy saw a request from its key that changes something.
 */
export async function releaseTogether(
  p: E2eProject,
  commands: string[][],
  env: NodeJS.ProcessEnv = {},
): Promise<Contender[]> {
  const keys = commands.map(() => testAccessKeyId());
  const started = commands.map((args, i) =>
    spawnCli(args, { cwd: p.root, env: { ...p.env, ...env }, accessKeyId: keys[i]! }),
  );
  const done = await Promise.all(started.map((s) => s.done));
  return Promise.all(
    done.map(async (run, i) => {
      const acted = Object.keys(await mutatingCalls(p.sbx, keys[i]!)).length > 0;
      return { args: commands[i]!, status: run.status, acted, run };
    }),
  );
}

/**
 * Whether any two runs' [start, finish] intervals overlap (two runs acting at once). An
 * interrupted run is left out: its finish is when the run that took over closed it.
 */
export function overlapping(runs: HistoryRun[]): [HistoryRun, HistoryRun] | undefined {
  const closed = runs
    .filter((r) => r.finishedAt !== null && r.result !== "interrupted")
    .sort((a, b) => a.startedAt - b.startedAt);
  for (let i = 1; i < closed.length; i++)
    if (closed[i]!.startedAt < closed[i - 1]!.finishedAt!) return [closed[i - 1]!, closed[i]!];
  return undefined;
}

/** The proxy's log of every call signed with `accessKeyId` (kept while it has fault rules). */
export async function callLog(p: E2eProject, accessKeyId: string): Promise<LoggedCall[]> {
  return (await adminCall<{ calls: LoggedCall[] }>(`${p.sbx.proxyUrl}/_proxy/log?accessKeyId=${accessKeyId}`))
    .calls;
}

/** How each injected fault was survived. */
export type FaultOutcome = "retried" | "adopted after a lost create" | "answered late" | "unaccounted";

/**
 * Accounts for every fault the proxy injected: the same call made again (retried), the change
 * made and found again by a read instead of repeated (adopted after a lost create), a slow answer
 * that still arrived (answered late). Anything else is unaccounted: a fault nothing dealt with.
 */
export function accountFaults(log: LoggedCall[]): { fault: LoggedCall; outcome: FaultOutcome }[] {
  return log
    .filter((c) => c.fault)
    .map((f) => {
      const later = log.filter((c) => c.seq > f.seq);
      if (f.fault === "latency") return { fault: f, outcome: "answered late" as const };
      if (later.some((c) => c.op === f.op && c.resource === f.resource))
        return { fault: f, outcome: "retried" as const };
      const service = f.op.split(":")[0];
      const reads = later.some(
        (c) => c.op.startsWith(`${service}:`) && READ_ONLY.test(c.op.split(":")[1] ?? ""),
      );
      if (f.fault === "lost-response" && reads)
        return { fault: f, outcome: "adopted after a lost create" as const };
      return { fault: f, outcome: "unaccounted" as const };
    });
}

/** The storm: about 20% of a key's calls fail, in every way the proxy can make them fail. */
export function stormRules(accessKeyId: string, seed: string) {
  return [
    { operation: "*:*", kind: "throttle", rate: 0.05, seed: `${seed}-throttle`, accessKeyId },
    { operation: "*:*", kind: "5xx", rate: 0.05, seed: `${seed}-5xx`, accessKeyId },
    { operation: "*:*", kind: "lost-response", rate: 0.04, seed: `${seed}-lost`, accessKeyId },
    // a connection dropped after 150 ms (a reset), well inside the request timeout
    { operation: "*:*", kind: "timeout", rate: 0.03, seed: `${seed}-reset`, accessKeyId, delayMs: 150 },
    { operation: "*:*", kind: "latency", rate: 0.03, seed: `${seed}-slow`, accessKeyId, delayMs: 1500 },
  ];
}

/** Adds fault rules for one key; `clear` removes them again. */
export async function addFaults(p: E2eProject, rules: unknown[]): Promise<void> {
  await adminCall(`${p.sbx.proxyUrl}/_proxy/faults/append`, { body: { rules } });
}

export async function clearFaults(p: E2eProject, accessKeyId: string): Promise<void> {
  await adminCall(`${p.sbx.proxyUrl}/_proxy/faults/remove`, { body: { accessKeyId } });
}

/** A table for people: a header and rows, columns padded. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
