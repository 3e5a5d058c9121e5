import { setMaxListeners } from "node:events";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { interfaceWaitMs, leaseTiming, type ResolvedConfig } from "../config/config.js";
import type { RunReport } from "../engine/step.js";
import type { RunContext } from "../engine/workflows/recorded-run.js";
import { KubecontrolError, toKubecontrolError } from "../errors.js";
import { type BuilderSettings, caBundlesFromEnv } from "../images/choose-builder.js";
import { describeChanges, groupChanges } from "../io/changes.js";
import type { EventSink } from "../io/events.js";
import { formatDuration } from "../io/format.js";
import { redact, redactValue } from "../io/redact.js";
import { jsonRenderer } from "../io/render-json.js";
import { plainRenderer } from "../io/render-plain.js";
import { ttyRenderer } from "../io/render-tty.js";
import { parseDuration } from "../spec/primitives.js";
import { globalOptions } from "./context.js";
import { type NotifySubject, runNotifier } from "./notify-run.js";
import { runTrigger } from "./trigger.js";

/** Progress output for a command that changes an app: TTY view, plain lines, or NDJSON. */
export interface Progress {
  emit: EventSink;
  json: boolean;
  /** Writes a line of the summary (stderr for people; nothing with --json). */
  say(text: string): void;
  /** One JSON document (stdout, --json only). */
  document(doc: Record<string, unknown>): void;
  stop(): void;
  /** A line after the run (the view is gone by then): a log event with --json or without a terminal. */
  note(level: "info" | "warn", message: string): void;
  /** Told the run's summary (verdict, result, run id) when there is one: the table of several apps. */
  onSummary?(s: Pick<RunSummary, "verdict" | "result" | "runId">): void;
}

/** What the runs of several apps in one command share: the store, and Ctrl-C. */
export interface SharedRun {
  store: import("../history/types.js").HistoryStore;
  signal: AbortSignal;
}

/** Picks the renderer: NDJSON with --json, the live view on a TTY, timestamped lines otherwise. */
export function progressFor(cmd: Command): Progress {
  const json = globalOptions(cmd).json;
  const tty = !json && process.stderr.isTTY === true;
  const live = tty ? ttyRenderer(process.stderr) : undefined;
  const renderer = json ? jsonRenderer(process.stdout) : (live ?? plainRenderer(process.stderr));
  return {
    // The boundary where the engine's events leave it: redacted before any renderer or log.
    emit: (event) => renderer(redactValue(event)),
    json,
    say(text) {
      if (!json) process.stderr.write(`${redact(text)}\n`);
    },
    document(doc) {
      if (json) process.stdout.write(`${redact(JSON.stringify(doc))}\n`);
    },
    stop() {
      live?.stop();
    },
    note(level, message) {
      if (live) process.stderr.write(`${level === "warn" ? "warning: " : ""}${redact(message)}\n`);
      else renderer(redactValue({ type: "log", at: Date.now(), level, message }));
    },
  };
}

/** An AbortSignal that SIGINT or SIGTERM aborts; `dispose` removes the handlers. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  // Every running step listens on it; a graph of thirty steps is not a leak.
  setMaxListeners(0, controller.signal);
  const stop = () => controller.abort(new KubecontrolError("CANCELLED", "interrupted"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

/**
 * The lease's lifetime (config lockTimeout), its margin (config requestTimeout: how long before
 * expiry a run stops changing things) and the --wait-lock budget, in ms.
 */
export function leaseTimes(
  config: ResolvedConfig,
  waitLock: string | undefined,
): { ttlMs: number; marginMs: number; waitMs?: number } {
  const { ttlMs, marginMs } = leaseTiming(config.values);
  if (waitLock === undefined) return { ttlMs, marginMs };
  const wait = parseDuration(waitLock);
  if (wait === undefined)
    throw new KubecontrolError(
      "USAGE",
      `--wait-lock: expected a duration such as "90s" or "10m", found "${waitLock}"`,
    );
  return { ttlMs, marginMs, waitMs: wait * 1000 };
}

/** What every AWS client of a run is built with: the app's region and the request timeout. */
/**
 * AWS clients by region, one set per region for the whole command: their credentials, retry
 * budgets and connections are shared by every app of that region.
 */
export async function awsClientsByRegion(
  config: ResolvedConfig,
): Promise<(region: string) => import("../aws/create-aws.js").Aws> {
  const { createAws } = await import("../aws/create-aws.js");
  const clients = new Map<string, import("../aws/create-aws.js").Aws>();
  return (region) => {
    let aws = clients.get(region);
    if (!aws) {
      aws = createAws(awsOptionsFor(config, region));
      clients.set(region, aws);
    }
    return aws;
  };
}

export function awsOptionsFor(
  config: ResolvedConfig,
  region: string,
): { region: string; requestTimeoutMs: number } {
  return { region, requestTimeoutMs: leaseTiming(config.values).requestTimeoutMs };
}

/** The operator's settings for removing a colour (teardown, destroy, and update's old colour). */
export function teardownOptionsFor(config: ResolvedConfig): { interfaceWaitMs: number } {
  return { interfaceWaitMs: interfaceWaitMs(config.values) };
}

/**
 * Asks before acting on a terminal unless --yes; without a terminal (cron, scripts) a command
 * that removes things needs --yes, one that only adds does not.
 */
export async function confirm(question: string, o: { yes: boolean; destructive: boolean }): Promise<void> {
  if (o.yes) return;
  if (!process.stdin.isTTY) {
    if (!o.destructive) return;
    throw new KubecontrolError("USAGE", `${question}: refusing without a terminal to ask on`, {
      hint: "pass --yes to confirm",
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim()))
      throw new KubecontrolError("CANCELLED", "not confirmed: nothing was changed");
  } finally {
    rl.close();
  }
}

/** The steps that took longest, for the summary. */
export function slowest(report: RunReport | undefined, n = 5): string[] {
  if (!report) return [];
  return [...report.steps]
    .filter((s) => s.status === "succeeded" || s.status === "failed")
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, n)
    .map((s) => `${s.name} ${formatDuration(s.durationMs)}${s.changed ? " (changed)" : ""}`);
}

/** What a command that changes an app reports at the end. */
export interface RunSummary {
  app: string;
  colour: string | undefined;
  runId: string;
  result: "succeeded" | "no-op";
  changed: string[];
  report?: RunReport;
  /** The first line's verdict, e.g. "created" or "already deployed, nothing changed". */
  verdict: string;
  /** How the changed steps are introduced ("changed", "deleted"). */
  changedLabel?: string;
  /** Commands to look at next. */
  next: string[];
  startedAt: number;
  /** More fields for the --json summary. */
  extra?: Record<string, unknown>;
}

/** Prints a run's summary: the JSON document with --json, else the verdict, changes, slowest steps, next commands. */
export function sayRunSummary(progress: Progress, s: RunSummary): void {
  const durationMs = Date.now() - s.startedAt;
  progress.onSummary?.({ verdict: s.verdict, result: s.result, runId: s.runId });
  progress.document({
    type: "summary",
    app: s.app,
    colour: s.colour,
    runId: s.runId,
    result: s.result,
    changed: s.changed,
    changes: groupChanges(s.changed),
    durationMs,
    ...s.extra,
  });
  const where = s.colour ? `${s.app} ${s.colour}` : s.app;
  progress.say(`\n${where}: ${s.verdict} in ${(durationMs / 1000).toFixed(1)}s (run ${s.runId})`);
  if (s.changed.length > 0) {
    const columns = process.stderr.isTTY && process.stderr.columns ? process.stderr.columns : 100;
    progress.say(`${s.changedLabel ?? "changed"} (${s.changed.length} steps):`);
    for (const line of describeChanges(groupChanges(s.changed), columns)) progress.say(line);
  }
  const slow = slowest(s.report);
  if (slow.length > 0 && s.changed.length > 0) progress.say(`longest steps: ${slow.join(", ")}`);
  if (s.next.length > 0) progress.say(`next: ${s.next.join("; ")}`);
}

/**
 * The frame every command that changes an app shares: asks first (unless --yes), opens the
 * shared store, turns SIGINT/SIGTERM into cancellation, hands the workflow its run context
 * (store, lease times, progress, signal, concurrency), and on failure prints the slowest steps
 * of the run before the error propagates to the exit code.
 */
export async function withDeployRun<T>(
  progress: Progress,
  config: ResolvedConfig,
  o: {
    question?: string;
    yes: boolean;
    destructive: boolean;
    waitLock?: string | undefined;
    /** The run to notify the operator's webhooks of when it ends (not for a dry run). */
    notify?: NotifySubject | undefined;
  },
  body: (ctx: RunContext) => Promise<T>,
  shared?: SharedRun,
): Promise<T> {
  const lease = leaseTimes(config, o.waitLock);
  const trigger = runTrigger();
  if (o.question) await confirm(o.question, { yes: o.yes, destructive: o.destructive });
  const [{ openStore }, { reportOf }] = await Promise.all([
    import("../history/open.js"),
    import("../engine/workflows/outcome.js"),
  ]);
  const notifier = o.notify ? runNotifier(config, o.notify) : undefined;
  // Several apps in one command share one store and one Ctrl-C, opened and closed by the caller.
  const interrupt = shared ? { signal: shared.signal, dispose() {} } : interruptSignal();
  const store = shared?.store ?? (await openStore(config.values));
  try {
    const result = await body({
      concurrency: config.values.concurrency,
      store,
      leaseTtlMs: lease.ttlMs,
      leaseMarginMs: lease.marginMs,
      waitLockMs: lease.waitMs,
      emit: notifier
        ? (e) => {
            notifier.observe(e);
            progress.emit(e);
          }
        : progress.emit,
      signal: interrupt.signal,
      trigger,
    });
    progress.stop();
    await notifier?.finish(undefined, progress.note);
    return result;
  } catch (err) {
    progress.stop();
    const slow = slowest(err instanceof Error ? reportOf(err) : undefined);
    if (slow.length > 0) progress.say(`\nlongest steps: ${slow.join(", ")}`);
    await notifier?.finish(toKubecontrolError(err), progress.note);
    throw err;
  } finally {
    interrupt.dispose();
    if (!shared) await store.close();
  }
}

/**
 * How this operator's images are built: the configured builder, the state directory, the
 * registry's CA bundles, and the CodeBuild role made by the engine's IAM step when needed.
 */
export function builderSettings(config: ResolvedConfig, region: string): BuilderSettings {
  const aws = awsOptionsFor(config, region);
  return {
    imageBuilder: config.values.imageBuilder,
    stateDir: config.values.stateDir,
    aws,
    caBundles: caBundlesFromEnv(),
    ensureBuildRole: async (app, signal) => {
      const { ensureImageBuildRole } = await import("../engine/steps/images/image-build-role.js");
      return ensureImageBuildRole(app.name, app.owner, aws, signal, app.image.codeBuild?.sourceCredentials);
    },
  };
}

/** What create and update need to build a colour: where the sources and state are, the AWS and image clients. */
export async function colourBuildInputs(
  config: ResolvedConfig,
  app: import("../spec/resolve.js").ResolvedKubeApp,
  appsDir: string,
  specFile: string,
) {
  const [path, { createAws }, { EcrImages }, builders] = await Promise.all([
    import("node:path"),
    import("../aws/create-aws.js"),
    import("../images/ecr-images.js"),
    import("../images/choose-builder.js"),
  ]);
  const stateDir = config.values.stateDir;
  const hook = app.deploy.verify.hook;
  return {
    projectRoot: path.dirname(appsDir),
    stateDir,
    aws: createAws(awsOptionsFor(config, app.region)),
    ecr: await EcrImages.create(awsOptionsFor(config, app.region)),
    requestTimeoutMs: leaseTiming(config.values).requestTimeoutMs,
    builder: () => builders.chooseBuilder(app, builderSettings(config, app.region)),
    awsEndpoint: process.env.AWS_ENDPOINT_URL,
    concurrency: config.values.concurrency,
    verifyHookFile: hook ? path.resolve(path.dirname(specFile), hook) : undefined,
  };
}

/** Prints what a dry run found (the JSON document with --json); exit 1 when a check hit a real problem. */
export function sayDryRun(
  progress: Progress,
  d: {
    command: string;
    app: string;
    colour?: string | undefined;
    version?: string | undefined;
    /** What the headline says in brackets instead of the colour and version. */
    what?: string;
    /** More of the JSON document (what update decided, where switch moves DNS). */
    more?: Record<string, unknown>;
    findings: import("../engine/workflows/dry-run.js").DryRunFindings;
    startedAt: number;
    /** What "nothing would change" means for this command. */
    nothing: string;
  },
): number {
  const f = d.findings;
  const seconds = ((Date.now() - d.startedAt) / 1000).toFixed(1);
  progress.document({ type: "dry-run", command: d.command, app: d.app, colour: d.colour, ...d.more, ...f });
  const what = d.what ?? [d.colour, d.version?.slice(0, 12)].filter(Boolean).join(", ");
  progress.say(
    `\ndry run of ${d.command} ${d.app}${what ? ` (${what})` : ""}: nothing was changed (${seconds}s)`,
  );
  if (f.wouldChange.length === 0 && f.afterApply.length === 0 && f.errors.length === 0)
    progress.say(d.nothing);
  for (const w of f.wouldChange)
    progress.say(
      `  ${w.action === "wait" ? "would wait  " : "would change"}  ${w.step}: ${w.description}: ${w.reason}`,
    );
  // What needs values earlier steps would make (a new cluster's endpoint): known after apply.
  for (const a of f.afterApply) {
    progress.say(`  after apply   ${a.step}: ${a.description}`);
    for (const c of a.changes) progress.say(`                  ${c}`);
  }
  if (f.unchecked.length > 0) progress.say(`  not checked, after a problem: ${f.unchecked.join(", ")}`);
  for (const e of f.errors) progress.say(`  problem       ${e.step}: ${e.message}`);
  return f.errors.length > 0 ? 1 : 0;
}

/**
 * How long the colour DNS leaves stays (seconds): `drain`, how long resolvers may keep the old
 * answer (config resolverCache: the record's TTL unless set), before it may be removed; `keep`,
 * the spec's deploy.keepOldColourFor, never shorter than the drain, or 0 when it asks for none.
 */
export async function oldColourTiming(
  config: ResolvedConfig,
  app: import("../spec/resolve.js").ResolvedKubeApp,
): Promise<{ drainSeconds: number; keepSeconds: number }> {
  const { parseDuration } = await import("../spec/primitives.js");
  const cache = config.values.resolverCache;
  const drainSeconds = cache === "ttl" ? (app.dns?.ttl ?? 0) : (parseDuration(cache) ?? 0);
  const kept = parseDuration(app.deploy.keepOldColourFor) ?? 0;
  return { drainSeconds, keepSeconds: kept > 0 ? Math.max(kept, drainSeconds) : 0 };
}
