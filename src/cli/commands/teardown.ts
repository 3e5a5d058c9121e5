import { type Command, Option } from "commander";
import type { Colour } from "../../plan/names.js";
import { action } from "../run-action.js";

export interface TeardownFlags {
  colour?: Colour;
  force: boolean;
  yes: boolean;
  dryRun?: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol teardown <app>`. Nothing heavy is imported until it runs. */
export function registerTeardownCommand(program: Command): void {
  program
    .command("teardown")
    .description(
      "remove one colour of <app> (cluster, nodes, load balancer, its DNS record); app-scoped resources stay",
    )
    .argument("<app>", "the app's name")
    .addOption(
      new Option(
        "--colour <colour>",
        "the colour to remove (default: the only one, or the idle one)",
      ).choices(["blue", "green"]),
    )
    .option("--force", "remove it even when DNS points at it (takes the app offline)", false)
    .option("--dry-run", "list what would be deleted, change nothing", false)
    .option("--yes", "do not ask for confirmation (needed without a terminal)", false)
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol teardown webapp --colour blue --dry-run
  kubecontrol teardown webapp --colour blue
  kubecontrol teardown hello --colour blue --force --yes`,
    )
    .action(action(async (cmd, app: string) => teardownCommand(cmd, app)));
}

/** `kubecontrol teardown <app>` (also run by `resume`). */
export async function teardownCommand(cmd: Command, name: string, flags?: TeardownFlags): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, { createAws }, { teardownColour }] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../deploy-run.js"),
    import("../../aws/create-aws.js"),
    import("../../engine/workflows/teardown.js"),
  ]);
  const o = flags ?? cmd.opts<TeardownFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app } = await loadApp(appsDir, name, loadOptions);
  const progress = run.progressFor(cmd);
  const outcome = await run.withDeployRun(
    progress,
    config,
    {
      ...(o.dryRun ? {} : { question: `remove the ${o.colour ?? "idle"} colour of ${app.name}?` }),
      yes: o.yes,
      waitLock: o.waitLock,
      destructive: true,
      notify: o.dryRun ? undefined : { app: app.name, command: "teardown" },
    },
    (ctx) =>
      teardownColour({
        app,
        colour: o.colour,
        force: o.force,
        dryRun: o.dryRun === true,
        aws: createAws(run.awsOptionsFor(config, app.region)),
        stack: run.teardownOptionsFor(config),
        ...ctx,
      }),
  );
  if (outcome.dryRun) {
    if (outcome.liveWeight)
      progress.say(
        `note: DNS points at this colour (weight ${outcome.liveWeight}): teardown would refuse it without --force`,
      );
    return run.sayDryRun(progress, {
      command: "teardown",
      app: app.name,
      colour: outcome.colour,
      findings: outcome.dryRun,
      startedAt: started,
      nothing: "nothing of the colour is live: teardown would change nothing",
    });
  }
  run.sayRunSummary(progress, {
    app: app.name,
    colour: outcome.colour,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict: outcome.result === "no-op" ? "nothing to remove" : "removed",
    changedLabel: "deleted",
    next: [`kubecontrol history ${app.name}`],
    startedAt: started,
  });
  return 0;
}
