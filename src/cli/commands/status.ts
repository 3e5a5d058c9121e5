import type { Command } from "commander";
import { leaseTiming } from "../../config/config.js";
import type { AppStatus, ColourStatus } from "../../engine/observe/app-status.js";
import { KubecontrolError } from "../../errors.js";
import { formatDuration } from "../../io/format.js";
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
}

/** How long one app's reads may take before it is shown as unknown. */
const APP_TIMEOUT_MS = 30_000;

/**
 * `kubecontrol status [app...]`: each app as it is now, read live (never from history), at most
 * `--parallel` apps at once. An app that cannot be read, or is slow, is shown as unknown; the
 * command itself fails only for bad usage, a spec that does not load (exit 3), or when no app
 * could be read at all (exit 6: credentials, access). Exit 10 when some app is not healthy
 * (absent apps, never deployed, do not count).
 */
export async function statusCommand(cmd: Command, names: string[]): Promise<number> {
  const o = cmd.opts<StatusOptions>();
  const parallel = Number(o.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new KubecontrolError("USAGE", `--parallel: expected a positive number, found "${o.parallel}"`);
  const [
    { commandSetup, selectApps },
    { openStore },
    { createAws },
    { readAppStatus, judgeHealth },
    { mapBounded },
    run,
  ] = await Promise.all([
    import("../load.js"),
    import("../../history/open.js"),
    import("../../aws/create-aws.js"),
    import("../../engine/observe/app-status.js"),
    import("../../kube/map-bounded.js"),
    import("../deploy-run.js"),
  ]);
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { apps: chosen, broken } = await selectApps(appsDir, loadOptions, names, o.all);
  // With --all, a spec that does not load is a problem to show (exit 3), not an app to skip in silence.
  for (const e of broken) reportError(e, false);
  const store = await openStore(config.values);
  try {
    // One set of AWS clients per region: their credentials and retry budgets are shared.
    const clients = new Map<string, ReturnType<typeof createAws>>();
    const awsFor = (region: string) => {
      if (!clients.has(region)) clients.set(region, createAws(run.awsOptionsFor(config, region)));
      return clients.get(region)!;
    };
    const statuses = await mapBounded(chosen, parallel, async (app: ResolvedKubeApp): Promise<AppStatus> => {
      const read = readAppStatus(app, awsFor(app.region), {
        lease: () => store.currentLease(app.name),
        lastRun: async () => (await store.listRuns({ app: app.name, limit: 1 }))[0],
        awsEndpoint: process.env.AWS_ENDPOINT_URL,
        requestTimeoutMs: leaseTiming(config.values).requestTimeoutMs,
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not read within ${APP_TIMEOUT_MS / 1000}s`)),
          APP_TIMEOUT_MS,
        );
      });
      const facts = await Promise.race([read, timeout])
        .catch((err: unknown) => ({
          app: app.name,
          live: undefined,
          dnsName: undefined,
          colours: undefined,
          lease: undefined,
          lastRun: undefined,
          readAt: Date.now(),
          error: (err as Error).message,
        }))
        .finally(() => clearTimeout(timer));
      return { ...facts, ...judgeHealth(facts) };
    });
    // Nothing could be read at all (expired credentials, no access): that is this command's
    // failure, not every app's health.
    if (statuses.length && statuses.every((s) => s.health === "unknown"))
      throw new KubecontrolError(
        "AWS",
        `no app could be read: ${redact(statuses[0]!.error ?? "unknown error")}`,
        {
          hint: "check the AWS credentials and region (kubecontrol config), then run it again",
        },
      );
    const shown = o.problems ? statuses.filter((s) => s.health !== "healthy") : statuses;
    if (globalOptions(cmd).json || o.output === "json")
      process.stdout.write(redact(`${JSON.stringify({ apps: shown }, null, 2)}\n`));
    else if (shown.length)
      process.stdout.write(redact(`${table(HEADER, shown.map(row))}\n${problemLines(shown)}`));
    else process.stderr.write(o.problems ? "every app is healthy\n" : `no apps in ${appsDir}\n`);
    if (broken.length) return ExitCode.INVALID_SPEC;
    return statuses.some((s) => s.health !== "healthy" && s.health !== "absent")
      ? ExitCode.UNHEALTHY
      : ExitCode.OK;
  } finally {
    await store.close();
  }
}

const HEADER = [
  "APP",
  "HEALTH",
  "LIVE",
  "VERSION",
  "WORKLOADS",
  "NODES",
  "BLUE",
  "GREEN",
  "LEASE",
  "LAST RUN",
];

function row(s: AppStatus): string[] {
  const live = s.live?.kind === "live" ? s.live.colour : undefined;
  const liveColour = live ? s.colours?.[live] : undefined;
  const view = liveColour?.view;
  return [
    s.app,
    s.health,
    live ?? "-",
    view?.version ? view.version.slice(0, 12) : "-",
    view ? `${view.workloads.ready}/${view.workloads.desired}` : "-",
    view ? `${view.nodes.ready}/${view.nodes.total}` : "-",
    ...COLOURS.map((c) => colourCell(s.colours?.[c])),
    s.lease ? `${s.lease.owner}` : "-",
    s.lastRun ? `${s.lastRun.command} ${s.lastRun.result} ${ago(s.lastRun.startedAt, s.readAt)}` : "-",
  ];
}

/** "ACTIVE w100" for a colour that stands, "w0" for a record alone, "-" for nothing. */
function colourCell(c: ColourStatus | undefined): string {
  if (!c || (!c.cluster && !c.record)) return "-";
  return [c.cluster?.status, c.record ? `w${c.record.weight}` : undefined].filter(Boolean).join(" ");
}

function ago(at: number, now: number): string {
  return `${formatDuration(Math.max(0, now - at))} ago`;
}

function problemLines(statuses: AppStatus[]): string {
  const lines = statuses.flatMap((s) => s.problems.map((p) => `${s.app}: ${p}`));
  return lines.length ? `\n${lines.join("\n")}\n` : "";
}
