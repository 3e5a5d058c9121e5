import type { Command } from "commander";
import type { GcAppPlan, UnknownCluster } from "../../engine/workflows/gc.js";
import { globalOptions } from "../context.js";
import { action } from "../run-action.js";
import { table } from "../table.js";

export interface GcFlags {
  all?: boolean;
  dryRun: boolean;
  yes: boolean;
  parallel: string;
  waitLock?: string;
}

/** Registers `kubecontrol gc [app...]`. Nothing heavy is imported until it runs. */
export function registerGcCommand(program: Command): void {
  program
    .command("gc")
    .description("remove kept colours past their retention, idle colours of failed updates, and orphans")
    .argument("[app...]", "the apps to collect (or --all)")
    .option("--all", "every app in the apps directory")
    .option("--dry-run", "list what would be removed and why, change nothing", false)
    .option("--yes", "do not ask for confirmation (needed without a terminal)", false)
    .option("--parallel <n>", "apps read at once", "8")
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on an app to finish')
    .addHelpText(
      "after",
      `
What gc removes, per app, and only while the other colour serves:
  - a colour kept at weight 0 once its retention has passed (update with the spec's
    deploy.keepOldColourFor, or switch, tag its cluster kubecontrol:kept-until);
  - an idle colour that was never switched to (an update that failed before its switch) once
    its cluster is older than the operator setting gcIdleAfter (default 24h);
  - resources tagged for the app that no plan of its spec accounts for (orphans).
It never removes a colour with DNS weight, a colour kept with --keep-old, a colour whose
kubecontrol:kept-until tag is not an ISO 8601 time (listed with its value), anything of an app that
no colour clearly serves, or anything of an app that is not in the apps directory: clusters
tagged for such an app are listed as unknown. It lists what it would remove first, then takes
each app's lease, decides again on what it reads then, and records the run (command gc).

Exit codes, as for update and rollout of several apps: 0 done (or nothing to remove); the code
every failed app shares (3 a spec that does not load with --all, 4 a lease held, 6 a step
failed, ...); 11 when apps failed for different reasons.

Examples:
  kubecontrol gc --all --dry-run
  kubecontrol gc webapp --yes
  kubecontrol --json gc --all --yes     # from cron: see kubecontrol crontab`,
    )
    .action(action(async (cmd, apps: string[]) => gcCommand(cmd, apps)));
}

/** `kubecontrol gc [app...]` (also run by `resume` for the app of the gc run it continues). */
export async function gcCommand(cmd: Command, names: string[], flags?: GcFlags): Promise<number> {
  const started = Date.now();
  const o = flags ?? cmd.opts<GcFlags>();
  const [
    { commandSetup, selectApps },
    gc,
    { mapBounded },
    run,
    { KubecontrolError, toKubecontrolError },
    { ExitCode, exitCodeFor },
    { reportError },
    { parseDuration },
    { openStore },
    { readingOnce },
    { exitCodeOf },
  ] = await Promise.all([
    import("../load.js"),
    import("../../engine/workflows/gc.js"),
    import("../../kube/map-bounded.js"),
    import("../deploy-run.js"),
    import("../../errors.js"),
    import("../exit-codes.js"),
    import("../run-action.js"),
    import("../../spec/primitives.js"),
    import("../../history/open.js"),
    import("../../aws/read-once.js"),
    import("../many-apps.js"),
  ]);
  const parallel = Number(o.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new KubecontrolError("USAGE", `--parallel: expected a positive number, found "${o.parallel}"`);
  const json = globalOptions(cmd).json;
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { apps, broken } = await selectApps(appsDir, loadOptions, names, o.all, "gc");
  for (const e of broken) reportError(e, json);
  const awsFor = await run.awsClientsByRegion(config);
  const policy = () => ({
    now: Date.now(),
    idleAfterMs: (parseDuration(config.values.gcIdleAfter) ?? 86_400) * 1000,
  });
  // The listing reads each region's clusters and load balancers once for all its apps; each
  // app's own run reads again, fresh, under its lease.
  const listed = new Map<string, ReturnType<typeof awsFor>>();
  const listingFor = (region: string) => {
    if (!listed.has(region)) listed.set(region, readingOnce(awsFor(region)));
    return listed.get(region)!;
  };
  const store = await openStore(config.values);
  const plans = await mapBounded(apps, parallel, (app) =>
    gc.planGc(app, listingFor(app.region), store, policy()),
  ).finally(() => store.close());
  // Clusters of apps this directory does not know (with --all: its whole fleet) are only listed.
  const unknown = o.all
    ? (
        await Promise.all(
          [...new Set(apps.map((a) => a.region).concat(config.values.region))].map((region) =>
            gc.unknownClusters(listingFor(region), new Set(apps.map((a) => a.name))),
          ),
        )
      ).flat()
    : [];
  const progress = run.progressFor(cmd);
  if (!json) progress.say(listing(plans, unknown));
  const doomed = plans.filter(gc.removesAnything);
  if (o.dryRun || doomed.length === 0) {
    if (json)
      process.stdout.write(`${JSON.stringify({ type: "gc", dryRun: o.dryRun, apps: plans, unknown })}\n`);
    else
      progress.say(
        doomed.length === 0
          ? "nothing to remove"
          : `dry run: nothing was changed; run it again without --dry-run to remove what is marked remove`,
      );
    return broken.length ? ExitCode.INVALID_SPEC : ExitCode.OK;
  }
  const question = `remove what is marked remove above, in ${doomed.map((p) => p.app).join(", ")}?`;
  const results: { app: string; result: string; runId?: string; error?: string; exit: number }[] = [];
  await run.withDeployRun(
    progress,
    config,
    { question, yes: o.yes, waitLock: o.waitLock, destructive: true },
    async (ctx) => {
      // One app at a time: each run is leased and recorded on its own, and one app's failure
      // does not stop the others.
      for (const p of doomed) {
        const app = apps.find((a) => a.name === p.app)!;
        try {
          const outcome = await gc.gcApp({
            app,
            aws: awsFor(app.region),
            policy: policy(),
            stack: run.teardownOptionsFor(config),
            ...ctx,
          });
          results.push({ app: app.name, result: outcome.result, runId: outcome.runId, exit: 0 });
        } catch (err) {
          const e = toKubecontrolError(err);
          if (e.code === "CANCELLED") throw e;
          reportError(e, json);
          results.push({ app: app.name, result: "failed", error: e.message, exit: exitCodeFor(e.code) });
        }
      }
    },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (json)
    process.stdout.write(`${JSON.stringify({ type: "gc", dryRun: false, apps: plans, unknown, results })}\n`);
  else
    progress.say(
      `\n${table(
        ["APP", "RESULT", "RUN"],
        results.map((r) => [r.app, r.result, r.runId ?? "-"]),
      )}\ngc done in ${seconds}s`,
    );
  return exitCodeOf([
    ...results.map((r) => ({ exitCode: r.exit })),
    ...broken.map(() => ({ exitCode: ExitCode.INVALID_SPEC })),
  ]);
}

/** What gc found: one row per colour that stands and per orphan, then the unknown clusters. */
function listing(plans: GcAppPlan[], unknown: UnknownCluster[]): string {
  const rows = plans.flatMap((p) => [
    ...p.colours.map((c) => [p.app, c.colour, c.remove ? "remove" : "keep", c.why]),
    ...p.orphans.map((x) => [
      p.app,
      `${x.kind} ${x.name}`,
      "remove",
      "tagged for the app, in no plan of its spec",
    ]),
  ]);
  const out = rows.length ? table(["APP", "WHAT", "ACTION", "WHY"], rows) : "no colour stands in these apps";
  const strangers = unknown.map(
    (u) =>
      `unknown: cluster ${u.cluster} is tagged for app ${u.app}, which is not in the apps directory (not touched)`,
  );
  return [out, ...strangers].join("\n");
}
