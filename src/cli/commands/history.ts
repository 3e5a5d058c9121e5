import type { Command } from "commander";
import { loadConfig } from "../../config/config.js";
import { KubecontrolError } from "../../errors.js";
import { openStore } from "../../history/open.js";
import type { RunRecord, RunResult } from "../../history/types.js";
import { formatDuration } from "../../io/format.js";
import { redact } from "../../io/redact.js";
import { parseDuration } from "../../spec/primitives.js";
import { globalOptions } from "../context.js";
import { table } from "../table.js";

interface HistoryOptions {
  since?: string;
  result?: RunResult;
  limit: string;
  output: "table" | "json";
}

/** `--since 24h` or `--since 2026-11-01T00:00:00Z` → epoch milliseconds. */
export function parseSince(text: string, now = Date.now()): number {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return now - seconds * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    throw new KubecontrolError(
      "USAGE",
      `--since: expected a duration such as "24h" or a date such as "2026-11-01", found "${text}"`,
    );
  }
  return at;
}

/** `kubecontrol history [app]`: past runs, newest first. */
export async function historyCommand(cmd: Command, app: string | undefined): Promise<number> {
  const g = globalOptions(cmd);
  const o = cmd.opts<HistoryOptions>();
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new KubecontrolError("USAGE", `--limit: expected a positive number, found "${o.limit}"`);
  const { values } = await loadConfig(g.config);
  const store = await openStore(values);
  try {
    const runs = await store.listRuns({
      ...(app ? { app } : {}),
      ...(o.since ? { since: parseSince(o.since) } : {}),
      ...(o.result ? { result: o.result } : {}),
      limit,
    });
    if (g.json || o.output === "json") {
      process.stdout.write(`${JSON.stringify({ runs }, null, 2)}\n`);
    } else if (runs.length === 0) {
      const where = values.historyStore === "sqlite" ? values.stateDir : redact(values.historyStore);
      process.stderr.write(`no runs recorded${app ? ` for ${app}` : ""} in ${where}\n`);
    } else {
      process.stdout.write(
        `${table(["STARTED", "APP", "COMMAND", "RESULT", "DURATION", "VERSION", "COLOUR", "WHO", "RUN"], runs.map(row))}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

function row(r: RunRecord): string[] {
  return [
    new Date(r.startedAt).toISOString().replace(/\.\d+Z$/, "Z"),
    r.app,
    r.command,
    r.result,
    r.finishedAt === null ? "-" : formatDuration(r.finishedAt - r.startedAt),
    r.version ? r.version.slice(0, 12) : "-",
    r.colour ?? "-",
    r.who,
    r.id,
  ];
}
