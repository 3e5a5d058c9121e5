import type { Command } from "commander";
import { KubecontrolError, toKubecontrolError } from "../errors.js";
import type { ErrorInfo, KubecontrolEvent } from "../io/events.js";
import { describeEvent, formatDuration } from "../io/format.js";
import { redact, redactValue } from "../io/redact.js";
import { appLinesView } from "../io/render-app-lines.js";
import { globalOptions } from "./context.js";
import { confirm, interruptSignal, type Progress, type SharedRun } from "./deploy-run.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { table } from "./table.js";

/** What one app's run gets from the command running several: its progress and the shared store. */
export interface AppHost {
  progress: Progress;
  shared: SharedRun;
}

/** How one app's run ended, as the table and the JSON document say it. */
export interface AppResult {
  app: string;
  /** succeeded, no-op, dry-run, failed or cancelled. */
  result: string;
  exitCode: number;
  durationMs: number;
  runId?: string;
  /** The verdict, or the error's message. */
  detail: string;
  error?: ErrorInfo;
}

export interface ManyAppsOptions {
  /** The command, for messages ("update"). */
  command: string;
  names: string[];
  all: boolean;
  /** --parallel, as given. */
  parallel: string;
  yes: boolean;
  dryRun: boolean;
  /** Whether the command removes something (then it needs --yes without a terminal). */
  destructive: boolean;
  /** The question asked once, on a terminal, before any app's run. */
  question(apps: string[]): string;
  /** Runs one app (the single-app command, given its host); resolves to its exit code. */
  one(app: string, host: AppHost): Promise<number>;
}

/** The apps a command names (`--all`: every app in the apps directory), or a usage error. */
export function wantsManyApps(names: string[], all: boolean | undefined): boolean {
  if (all && names.length > 0)
    throw new KubecontrolError("USAGE", `name apps or pass --all, not both (named ${names.join(", ")})`);
  if (!all && names.length === 0)
    throw new KubecontrolError("USAGE", "name the app (or several), or pass --all", {
      hint: "e.g. kubecontrol update webapp, or kubecontrol update --all --yes",
    });
  return all === true || names.length > 1;
}

/**
 * Runs a command that changes an app over several apps at once, at most `--parallel` at a time:
 * each app's run is the single-app command's own (its own lease, history record, exit code),
 * sharing the store and Ctrl-C. Shows one line per app on a terminal, each event as NDJSON with
 * an `app` field with --json, prefixed lines otherwise; ends with a table app → result (and,
 * with --json, a document `{type: "apps"}`). Exit code: 0 when every app succeeded; the one
 * code every failed app shares; else 11 (APPS_FAILED: apps failed for different reasons).
 */
export async function runForApps(cmd: Command, o: ManyAppsOptions): Promise<number> {
  const parallel = Number(o.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new KubecontrolError("USAGE", `--parallel: expected a positive number, found "${o.parallel}"`);
  const [{ commandSetup }, { loadApps }, { openStore }, { mapBounded }] = await Promise.all([
    import("./load.js"),
    import("../spec/loader.js"),
    import("../history/open.js"),
    import("../kube/map-bounded.js"),
  ]);
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { apps, errors } = await loadApps(appsDir, loadOptions);
  const known = new Set(apps.map(({ app }) => app.name));
  const unknown = o.names.filter((n) => !known.has(n));
  // A named app that is not there may be one whose spec does not load: that error says why.
  if (unknown.length && errors.length) throw errors[0];
  if (unknown.length)
    throw new KubecontrolError("NOT_FOUND", `no app named ${unknown.join(", ")} in ${appsDir}`, {
      hint: "kubecontrol list shows the apps; nothing was changed",
    });
  // With --all, a spec that does not load is a failed row (exit 3), not an app skipped in silence.
  const broken: AppResult[] = o.all
    ? errors.map((e) => {
        const err = toKubecontrolError(e);
        const file = (err.details?.file as string | undefined) ?? "a spec";
        return {
          app: file,
          result: "failed",
          exitCode: exitCodeFor(err.code),
          durationMs: 0,
          detail: err.message,
          error: infoOf(err),
        };
      })
    : [];
  const chosen = o.all ? [...known].sort() : [...new Set(o.names)];
  if (!o.dryRun) await confirm(o.question(chosen), { yes: o.yes, destructive: o.destructive });

  const json = globalOptions(cmd).json;
  const tty = !json && process.stderr.isTTY === true;
  const view = tty ? appLinesView(process.stderr, chosen) : undefined;
  const write = (app: string, e: KubecontrolEvent) => {
    if (json) process.stdout.write(`${JSON.stringify({ ...e, app })}\n`);
    else if (view) view.sink(app)(e);
    else {
      const line = describeEvent(e);
      if (line !== undefined) process.stderr.write(`${new Date(e.at).toISOString()} ${app}: ${line}\n`);
    }
  };
  const interrupt = interruptSignal();
  const store = await openStore(config.values);
  let results: AppResult[];
  try {
    results = await mapBounded(chosen, parallel, async (app): Promise<AppResult> => {
      const t0 = Date.now();
      let summary: Parameters<NonNullable<Progress["onSummary"]>>[0] | undefined;
      const progress: Progress = {
        // The boundary where the engine's events leave it: redacted before any renderer.
        emit: (e) => write(app, redactValue(e)),
        json,
        say(text) {
          // On a terminal the lines are the view; in a log each app's summary is kept, prefixed.
          if (!json && !view)
            for (const line of redact(text).split("\n").filter(Boolean))
              process.stderr.write(`${app}: ${line}\n`);
        },
        document(doc) {
          if (json) process.stdout.write(`${redact(JSON.stringify({ ...doc, app }))}\n`);
        },
        stop() {},
        note(level, message) {
          write(app, redactValue({ type: "log", at: Date.now(), level, message }));
        },
        onSummary(s) {
          summary = s;
        },
      };
      let result: AppResult;
      try {
        const code = await o.one(app, { progress, shared: { store, signal: interrupt.signal } });
        result = {
          app,
          result: o.dryRun ? "dry-run" : (summary?.result ?? (code === 0 ? "succeeded" : "failed")),
          exitCode: code,
          durationMs: Date.now() - t0,
          ...(summary ? { runId: summary.runId } : {}),
          detail: summary?.verdict ?? (o.dryRun ? "nothing was changed" : ""),
        };
      } catch (err) {
        const e = toKubecontrolError(err);
        const info = infoOf(e);
        if (json) process.stdout.write(`${JSON.stringify({ type: "error", app, error: info })}\n`);
        result = {
          app,
          result: e.code === "CANCELLED" ? "cancelled" : "failed",
          exitCode: exitCodeFor(e.code),
          durationMs: Date.now() - t0,
          detail: redact(e.message),
          error: info,
        };
      }
      view?.end(app, { ok: result.exitCode === 0, text: `${result.result}: ${result.detail}` });
      return result;
    });
  } finally {
    view?.stop();
    interrupt.dispose();
    await store.close();
  }
  const all = [...results, ...broken];
  const code = exitCodeOf(all);
  if (json)
    process.stdout.write(
      `${redact(JSON.stringify({ type: "apps", command: o.command, exitCode: code, apps: all }))}\n`,
    );
  else process.stderr.write(`\n${redact(resultTable(all))}\n`);
  return code;
}

/** 0 when every app succeeded; the code every failed app shares; else APPS_FAILED (11). */
export function exitCodeOf(results: readonly Pick<AppResult, "exitCode">[]): number {
  const failed = new Set(results.map((r) => r.exitCode).filter((c) => c !== 0));
  if (failed.size === 0) return ExitCode.OK;
  if (failed.size === 1) return [...failed][0]!;
  return ExitCode.APPS_FAILED;
}

/** The table app → result, and under it each failure's hint. */
export function resultTable(results: readonly AppResult[]): string {
  const short = (s: string) => (s.length > 160 ? `${s.slice(0, 159)}…` : s);
  const rows = results.map((r) => [
    r.app,
    r.result,
    String(r.exitCode),
    formatDuration(r.durationMs),
    short(r.detail.split("\n")[0] ?? ""),
  ]);
  const failed = results.filter((r) => r.exitCode !== 0);
  const hints = failed.flatMap((r) => (r.error?.hint ? [`${r.app}: hint: ${r.error.hint}`] : []));
  const counts = `${results.length - failed.length} of ${results.length} app(s) succeeded`;
  return [table(["APP", "RESULT", "EXIT", "TIME", "DETAIL"], rows), "", counts, ...hints].join("\n");
}

/** An error as events carry it, redacted. */
function infoOf(e: KubecontrolError): ErrorInfo {
  return redactValue({
    code: e.code,
    message: e.message,
    retryable: e.retryable,
    ...(e.hint ? { hint: e.hint } : {}),
  });
}
