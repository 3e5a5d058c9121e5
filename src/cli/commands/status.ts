import path from "node:path";
import type { Command } from "commander";
import type { ResolvedConfig } from "../../config/config.js";
import { leaseTiming } from "../../config/config.js";
import { retentionOf } from "../../engine/decide/retention.js";
import type { AppStatus, ColourStatus } from "../../engine/observe/app-status.js";
import { KubecontrolError } from "../../errors.js";
import type { HistoryStore } from "../../history/types.js";
import { formatAge } from "../../io/format.js";
import { redact } from "../../io/redact.js";
import { COLOURS } from "../../plan/names.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { reportError } from "../run-action.js";
import { table } from "../table.js";

interface StatusOptions {
  all?: boolean;
  problems?: boolean;
  output: "table" | "json";
  parallel: string;
  watch?: boolean;
  interval: string;
  from?: string;
}

/** How long one app's reads may take before it is shown as unknown. */
const APP_TIMEOUT_MS = 30_000;

/**
 * `kubecontrol status [app...]`: each app as it is now, read live (never from history), at most
 * `--parallel` apps at once. An app that cannot be read, or is slow, is shown as unknown; the
 * command itself fails only for bad usage, a spec that does not load (exit 3), or when no app
 * could be read at all (exit 6: credentials, access). Exit 10 when some app is not healthy
 * (absent apps, never deployed, do not count). `--watch` reads again every `--interval` and
 * shows what changed until interrupted; `--from FILE` reads a snapshot that `-o json` printed
 * instead of AWS, the clusters and the store.
 */
export async function statusCommand(cmd: Command, names: string[]): Promise<number> {
  const o = cmd.opts<StatusOptions>();
  const parallel = Number(o.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new KubecontrolError("USAGE", `--parallel: expected a positive number, found "${o.parallel}"`);
  const { parseDuration } = await import("../../spec/primitives.js");
  const intervalS = parseDuration(o.interval);
  if (intervalS === undefined || intervalS < 1)
    throw new KubecontrolError(
      "USAGE",
      `--interval: expected a duration of at least 1s, such as "5s", found "${o.interval}"`,
    );
  const [{ commandSetup, selectApps }, { openStore }] = await Promise.all([
    import("../load.js"),
    import("../../history/open.js"),
  ]);
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { apps: chosen, broken } = await selectApps(appsDir, loadOptions, names, o.all);
  // With --all, a spec that does not load is a problem to show (exit 3), not an app to skip in silence.
  for (const e of broken) reportError(e, false);
  const json = globalOptions(cmd).json || o.output === "json";
  const snapshot = o.from ? await readSnapshot(o.from) : undefined;
  const store = snapshot ? undefined : await openStore(config.values);
  try {
    const read = snapshot
      ? async () => fromSnapshot(chosen, snapshot)
      : await liveReader(chosen, { config, appsDir, parallel, store: store! });
    const render = (statuses: AppStatus[]): string => {
      const shown = o.problems ? statuses.filter((s) => s.health !== "healthy") : statuses;
      if (json) return redact(`${JSON.stringify({ apps: shown }, null, o.watch ? 0 : 2)}\n`);
      if (shown.length) return redact(`${table(HEADER, shown.map(row))}\n${problemLines(shown)}`);
      return o.problems ? "every app is healthy\n" : `no apps in ${appsDir}\n`;
    };
    if (o.watch) return await watch(read, render, intervalS * 1000, { json });
    if (snapshot && chosen.length && !chosen.some((a) => snapshot.has(a.name)))
      throw new KubecontrolError(
        "NOT_FOUND",
        `--from ${o.from}: holds none of ${chosen.map((a) => a.name).join(", ")}`,
        {
          hint: `it holds ${[...snapshot.keys()].slice(0, 10).join(", ") || "no app"}: name those, or give a snapshot of these (kubecontrol status --all -o json)`,
        },
      );
    const statuses = await read();
    // Nothing could be read at all (expired credentials, no access): that is this command's
    // failure, not every app's health. A snapshot is not read from AWS: it shows what it holds.
    if (!snapshot && statuses.length && statuses.every((s) => s.health === "unknown"))
      throw new KubecontrolError(
        "AWS",
        `no app could be read: ${redact(statuses[0]!.error ?? "unknown error")}`,
        {
          hint: "check the AWS credentials and region (kubecontrol config), then run it again",
        },
      );
    const text = render(statuses);
    if (json || statuses.some((s) => !o.problems || s.health !== "healthy")) process.stdout.write(text);
    else process.stderr.write(text);
    if (broken.length) return ExitCode.INVALID_SPEC;
    return exitFor(statuses);
  } finally {
    await store?.close();
  }
}

function exitFor(statuses: AppStatus[]): number {
  return statuses.some((s) => s.health !== "healthy" && s.health !== "absent")
    ? ExitCode.UNHEALTHY
    : ExitCode.OK;
}

/** Reads the chosen apps live: AWS, their clusters and the store, at most `parallel` at once. */
async function liveReader(
  chosen: ResolvedKubeApp[],
  o: { config: ResolvedConfig; appsDir: string; parallel: number; store: HistoryStore },
): Promise<() => Promise<AppStatus[]>> {
  const [{ readAppStatusWithin }, { mapBounded }, run, { commitsBehind, userSourcesDir }] = await Promise.all(
    [
      import("../../engine/observe/app-status.js"),
      import("../../kube/map-bounded.js"),
      import("../deploy-run.js"),
      import("../../images/version.js"),
    ],
  );
  const { config, store } = o;
  const awsFor = await run.awsClientsByRegion(config);
  // A remote source's mirror is fetched to count commits: once a minute per app is enough,
  // however often --watch reads.
  const counted = new Map<
    string,
    { version: string; at: number; value: Awaited<ReturnType<typeof commitsBehind>> }
  >();
  const behind = async (app: ResolvedKubeApp, version: string) => {
    const seen = counted.get(app.name);
    if (seen && seen.version === version && Date.now() - seen.at < 60_000) return seen.value;
    const value = await commitsBehind(app, path.dirname(o.appsDir), version, userSourcesDir());
    counted.set(app.name, { version, at: Date.now(), value });
    return value;
  };
  return () =>
    mapBounded(chosen, o.parallel, async (app: ResolvedKubeApp): Promise<AppStatus> => {
      const status = await readAppStatusWithin(
        app,
        awsFor(app.region),
        {
          lease: () => store.currentLease(app.name),
          lastRun: async () => (await store.listRuns({ app: app.name, limit: 1 }))[0],
          awsEndpoint: process.env.AWS_ENDPOINT_URL,
          requestTimeoutMs: leaseTiming(config.values).requestTimeoutMs,
        },
        APP_TIMEOUT_MS,
      );
      const version = liveView(status)?.version;
      const source = version && !status.error ? await behind(app, version) : undefined;
      return { ...status, ...(source ? { source } : {}) };
    });
}

/** A snapshot that `status -o json` printed: `{ "apps": [AppStatus...] }`. */
async function readSnapshot(file: string): Promise<Map<string, AppStatus>> {
  const { parseStatusSnapshot, readSnapshotText } = await import("../../engine/observe/status-snapshot.js");
  const text = await readSnapshotText(file, `--from ${file}`).catch((err: Error) => {
    if (err instanceof KubecontrolError) throw err;
    throw new KubecontrolError("USAGE", `--from ${file}: ${err.message}`, {
      hint: "give a file that kubecontrol status --all -o json wrote",
    });
  });
  return new Map(parseStatusSnapshot(text, `--from ${file}`).map((a) => [a.app, a]));
}

/** The chosen apps as the snapshot saw them, judged again; an app it lacks is unknown. */
async function fromSnapshot(
  chosen: ResolvedKubeApp[],
  snapshot: Map<string, AppStatus>,
): Promise<AppStatus[]> {
  const { judgeHealth, unreadableFacts } = await import("../../engine/observe/app-status.js");
  return chosen.map((app) => {
    const {
      health: _h,
      problems: _p,
      ...facts
    } = snapshot.get(app.name) ?? {
      ...unreadableFacts(app.name, "not in the snapshot"),
      health: "unknown",
      problems: [],
    };
    return { ...facts, ...judgeHealth(facts, facts.readAt) };
  });
}

/**
 * Reads again every `intervalMs` until SIGINT or SIGTERM (exit 0): on a terminal the screen is
 * redrawn with the time it was read; otherwise each reading that differs from the last is printed
 * (NDJSON with --json).
 */
async function watch(
  read: () => Promise<AppStatus[]>,
  render: (s: AppStatus[]) => string,
  intervalMs: number,
  o: { json: boolean },
): Promise<number> {
  const tty = process.stdout.isTTY === true && !o.json;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let last = "";
  try {
    while (!stop.signal.aborted) {
      const statuses = await read();
      // What changes on every read (when it was read) does not count as a change.
      const text = render(statuses);
      const key = render(statuses.map((s) => ({ ...s, readAt: 0 })));
      if (tty)
        process.stdout.write(
          `\x1b[H\x1b[2J${text}\nas of ${new Date().toISOString()}; every ${intervalMs / 1000}s, Ctrl-C to stop\n`,
        );
      else if (key !== last) process.stdout.write(text);
      last = key;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        stop.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
    return ExitCode.OK;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const HEADER = [
  "APP",
  "HEALTH",
  "LIVE",
  "VERSION",
  "WORKLOADS",
  "TARGETS",
  "NODES",
  "AGE",
  "BLUE",
  "GREEN",
  "LEASE",
  "LAST RUN",
];

/** The live colour's status, when one colour serves. */
function liveColour(s: Pick<AppStatus, "live" | "colours">): ColourStatus | undefined {
  return s.live?.kind === "live" ? s.colours?.[s.live.colour] : undefined;
}

function liveView(s: Pick<AppStatus, "live" | "colours">) {
  return liveColour(s)?.view;
}

function row(s: AppStatus): string[] {
  const c = liveColour(s);
  const view = c?.view;
  const behind = s.source ? (s.source.behind === 0 ? " (head)" : ` (-${s.source.behind})`) : "";
  return [
    s.app,
    s.health,
    s.live?.kind === "live" ? s.live.colour : "-",
    view?.version ? `${view.version.slice(0, 12)}${behind}` : "-",
    view ? `${view.workloads.ready}/${view.workloads.desired}` : "-",
    c?.targets ? `${c.targets.healthy}/${c.targets.total}` : "-",
    c ? poolsCell(c) : "-",
    c?.cluster?.createdAt ? formatAge(s.readAt - c.cluster.createdAt) : "-",
    ...COLOURS.map((colour) => colourCell(s.colours?.[colour], s.readAt)),
    s.lease ? `${s.lease.owner}` : "-",
    s.lastRun
      ? `${s.lastRun.command} ${s.lastRun.result} ${formatAge(s.readAt - s.lastRun.startedAt)} ago`
      : "-",
  ];
}

/** Nodes Ready of desired, per pool ("general 2/2, batch 1/3 spot"); all nodes when pools are unknown. */
function poolsCell(c: ColourStatus): string {
  if (!c.pools?.length) return c.view ? `${c.view.nodes.ready}/${c.view.nodes.total}` : "-";
  return c.pools
    .map((p) => {
      const ready = c.view?.pools?.[p.pool]?.ready;
      return `${p.pool} ${ready ?? "?"}/${p.desired}${p.capacity === "spot" ? " spot" : ""}`;
    })
    .join(", ");
}

/** "ACTIVE w100 ttl60" for a colour that stands, "ACTIVE w0 ttl60 kept 40m" for one kept, "-" for nothing. */
function colourCell(c: ColourStatus | undefined, now: number): string {
  if (!c || (!c.cluster && !c.record)) return "-";
  const retention = retentionOf(c.cluster?.tags);
  const kept = !retention
    ? undefined
    : "forever" in retention
      ? "kept"
      : retention.until > now
        ? `kept ${formatAge(retention.until - now)}`
        : "expired";
  const dns = c.record
    ? `w${c.record.weight}${c.record.ttl !== undefined ? ` ttl${c.record.ttl}` : ""}`
    : undefined;
  return [c.cluster?.status, dns, kept].filter(Boolean).join(" ");
}

function problemLines(statuses: AppStatus[]): string {
  const lines = statuses.flatMap((s) => s.problems.map((p) => `${s.app}: ${p}`));
  return lines.length ? `\n${lines.join("\n")}\n` : "";
}
