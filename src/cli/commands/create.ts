import { type Command, Option } from "commander";
import type { Colour } from "../../plan/names.js";
import { action } from "../run-action.js";

export interface CreateFlags {
  version?: string;
  colour: Colour;
  dryRun: boolean;
  adopt?: boolean;
  yes: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol create <app>`. Nothing heavy is imported until it runs. */
export function registerCreateCommand(program: Command): void {
  program
    .command("create")
    .description(
      "first deploy of <app>: its colour's AWS stack, image, Kubernetes objects, verification, then DNS",
    )
    .argument("<app>", "the app's name")
    .option("--version <commit-ish>", "code version (default: HEAD of the app's source)")
    .addOption(
      new Option("--colour <colour>", "the colour to create").choices(["blue", "green"]).default("blue"),
    )
    .option("--dry-run", "preflight and checks only: say what would change, change nothing", false)
    .option(
      "--adopt",
      "take over resources found by name that have no kubecontrol tags (never another app's); recorded in their tags and in history",
      false,
    )
    .option("--yes", "do not ask for confirmation on a terminal", false)
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
Takes the app's lease, records the run in history, preflights (read-only), builds the colour's
AWS stack and the image at once, applies and watches the Kubernetes objects, waits for healthy
load balancer targets, and only then gives the colour's DNS record weight 100. Running it again
changes nothing. A failed verification leaves DNS untouched (exit 7).

Examples:
  kubecontrol create hello --yes
  kubecontrol create webapp --version 3f9c2e1 --colour green --dry-run
  kubecontrol --json create hello --yes --wait-lock 10m`,
    )
    .action(action(async (cmd, app: string) => createCommand(cmd, app)));
}

/** `kubecontrol create <app>` (also run by `resume` with the flags of the run it continues). */
export async function createCommand(cmd: Command, name: string, flags?: CreateFlags): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, wf] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../deploy-run.js"),
    import("../../engine/workflows/create.js"),
  ]);
  const o = flags ?? cmd.opts<CreateFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app, file } = await loadApp(appsDir, name, loadOptions);
  const progress = run.progressFor(cmd);
  const question = o.dryRun ? undefined : `create the ${o.colour} colour of ${app.name} and point DNS at it?`;
  const outcome = await run.withDeployRun(
    progress,
    config,
    {
      ...(question ? { question } : {}),
      yes: o.yes,
      waitLock: o.waitLock,
      destructive: false,
      notify: o.dryRun ? undefined : { app: app.name, command: "create" },
    },
    async (ctx) =>
      wf.createApp({
        app,
        colour: o.colour,
        version: o.version,
        ...(await run.colourBuildInputs(config, app, appsDir, file)),
        dryRun: o.dryRun,
        adopt: o.adopt === true,
        ...ctx,
      }),
  );
  if (outcome.dryRun)
    return run.sayDryRun(progress, {
      command: "create",
      app: app.name,
      colour: o.colour,
      version: outcome.plan.version,
      findings: outcome.dryRun,
      startedAt: started,
      nothing: "everything is in place: create would change nothing",
    });
  run.sayRunSummary(progress, {
    app: app.name,
    colour: o.colour,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict: outcome.result === "no-op" ? "already deployed, nothing changed" : "created",
    next: [`kubecontrol history ${app.name}`, `kubecontrol kubeconfig ${app.name} --colour ${o.colour}`],
    startedAt: started,
  });
  return 0;
}
