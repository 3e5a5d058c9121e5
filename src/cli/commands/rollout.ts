import type { Command } from "commander";
import { action } from "../run-action.js";

export interface RolloutFlags {
  version?: string;
  dryRun: boolean;
  yes: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol rollout <app>`. Nothing heavy is imported until it runs. */
export function registerRolloutCommand(program: Command): void {
  program
    .command("rollout")
    .description(
      "rolling update of <app>'s live colour: new images patched in place, watched, undone on failure",
    )
    .argument("[apps...]", "the app's name (several: each rolled out at once, at most --parallel)")
    .option("--all", "every app in the apps directory", false)
    .option("--parallel <n>", "with several apps: how many are rolled out at once", "3")
    .option("--version <commit-ish>", "code version (default: HEAD of the app's source)")
    .option("--dry-run", "say which workloads would change from which image to which; change nothing", false)
    .option("--yes", "do not ask for confirmation on a terminal", false)
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
Rolls the colour DNS points at (the one with weight) onto a code version: the image is found in ECR, or
built and pushed when missing; then every Deployment and DaemonSet whose planned images differ
is patched and watched until its new pods are available. When new pods fail (image pull,
crash loop, never ready, timeout) the previous pod templates are put back and watched, and the
command exits 7 naming the workload, the reason and the image it went back to. Nothing else
changes: no AWS resource, no DNS. Rolling out the version already running is a no-op.

Exit codes: 0 rolled out or no-op, 4 lease held, 7 new pods failed (rolled back),
8 no live colour or unknown version.

Several apps (more than one named, or --all) are rolled out at once, at most --parallel, each
under its own lease and history record, and end with a table app → result. Exit code: 0 when
all succeeded, the failed apps' code when they share one, else 11.

Examples:
  kubecontrol rollout hello --yes
  kubecontrol rollout --all --parallel 5 --yes
  kubecontrol rollout webapp --version 3f9c2e1 --dry-run
  kubecontrol --json rollout webapp --version v1.4.2 --yes --wait-lock 10m`,
    )
    .action(action(async (cmd, apps: string[]) => rolloutApps(cmd, apps)));
}

/** `kubecontrol rollout <app...>|--all`: one app as ever; several at once, bounded by --parallel. */
async function rolloutApps(cmd: Command, names: string[]): Promise<number> {
  const many = await import("../many-apps.js");
  const o = cmd.opts<RolloutFlags & { all?: boolean; parallel: string }>();
  if (!many.wantsManyApps(names, o.all)) return rolloutCommand(cmd, names[0]!);
  return many.runForApps(cmd, {
    command: "rollout",
    names,
    all: o.all === true,
    parallel: o.parallel,
    yes: o.yes,
    dryRun: o.dryRun,
    destructive: false,
    question: (apps) =>
      `roll ${apps.length} apps' live colours (${apps.join(", ")}) onto ${o.version ?? "the head of each one's source"}?`,
    one: (app, host) => rolloutCommand(cmd, app, { ...o, yes: true }, host),
  });
}

/** `kubecontrol rollout <app>` (also run by `resume` with the flags of the run it continues). */
export async function rolloutCommand(
  cmd: Command,
  name: string,
  flags?: RolloutFlags,
  host?: import("../many-apps.js").AppHost,
): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, wf, access] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../deploy-run.js"),
    import("../../engine/workflows/rollout.js"),
    import("../../kube/cluster-access.js"),
  ]);
  const o = flags ?? cmd.opts<RolloutFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app, file } = await loadApp(appsDir, name, loadOptions);
  const progress = host?.progress ?? run.progressFor(cmd);
  const question = o.dryRun
    ? undefined
    : `roll ${app.name}'s live colour onto ${o.version ?? "the head of its source"}?`;
  const outcome = await run.withDeployRun(
    progress,
    config,
    {
      ...(question ? { question } : {}),
      yes: o.yes,
      waitLock: o.waitLock,
      destructive: false,
      notify: o.dryRun ? undefined : { app: app.name, command: "rollout" },
    },
    async (ctx) => {
      const inputs = await run.colourBuildInputs(config, app, appsDir, file);
      return wf.rolloutApp({
        app,
        version: o.version,
        ...inputs,
        connect: ({ clusterName, region }) =>
          access.connectCluster({
            clusterName,
            region,
            ...(inputs.awsEndpoint ? { awsEndpoint: inputs.awsEndpoint } : {}),
            requestTimeoutMs: inputs.requestTimeoutMs,
          }),
        ...ctx,
        dryRun: o.dryRun,
      });
    },
    host?.shared,
  );
  const short = outcome.commit.slice(0, 12);
  const changes = outcome.changes.map(
    (c) => `  ${c.workload} ${c.container}: ${c.from || "(none)"} -> ${c.to}`,
  );
  if (outcome.dryRun) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    progress.document({
      type: "dry-run",
      app: app.name,
      colour: outcome.colour,
      commit: outcome.commit,
      image: outcome.image,
      build: outcome.built,
      changes: outcome.changes,
    });
    progress.say(
      `\ndry run of rollout ${app.name} (${outcome.colour}, ${short}): nothing was changed (${seconds}s)`,
    );
    if (outcome.built)
      progress.say(`  would build  ${outcome.image} (not in ECR); its digest is known once built`);
    if (outcome.changes.length === 0 && !outcome.built)
      progress.say(`  no-op: every workload already runs ${short}; rollout would change nothing`);
    for (const c of outcome.changes)
      progress.say(`  would change ${c.workload} ${c.container}: ${c.from || "(none)"} -> ${c.to}`);
    return 0;
  }
  run.sayRunSummary(progress, {
    app: app.name,
    colour: outcome.colour,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict:
      outcome.result === "no-op"
        ? `no-op: every workload already runs ${short}, nothing changed`
        : `rolled out ${short}${outcome.built ? " (image built)" : ""}`,
    // The images come before the next commands.
    next: [],
    startedAt: started,
    extra: { commit: outcome.commit, image: outcome.image, built: outcome.built, changes: outcome.changes },
  });
  if (changes.length > 0) progress.say(`images:\n${changes.join("\n")}`);
  progress.say(
    `next: kubecontrol history ${app.name}; kubecontrol kubeconfig ${app.name} --colour ${outcome.colour}`,
  );
  return 0;
}
