import { type Command, Option } from "commander";
import type { Colour } from "../../plan/names.js";
import { action } from "../run-action.js";

export interface SwitchFlags {
  to: Colour;
  keepOld: boolean;
  dryRun: boolean;
  yes: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol switch <app> --to <colour>`. Nothing heavy is imported until it runs. */
export function registerSwitchCommand(program: Command): void {
  program
    .command("switch")
    .description(
      "move all of <app>'s traffic to the other colour while both stand: instant rollback (or forward)",
    )
    .argument("<app>", "the app's name")
    .addOption(
      new Option("--to <colour>", "the colour that gets all of DNS")
        .choices(["blue", "green"])
        .makeOptionMandatory(),
    )
    .option("--keep-old", "keep the colour DNS leaves with no expiry (gc never removes it)", false)
    .option("--dry-run", "judge the colour and say what would change, change nothing", false)
    .option("--yes", "do not ask for confirmation (needed without a terminal)", false)
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
switch takes the app's lease, records the run in history and:
  1. judges the colour as a deployment would: every workload ready, every load balancer target
     healthy, the spec's HTTP checks and verify hook (each up to deploy.verify.timeout);
  2. moves all of DNS to it in one Route 53 change batch (weight 100, the other colour 0) and
     waits until the change is INSYNC;
  3. marks the colour it left as kept for the spec's deploy.keepOldColourFor (at least as long
     as resolvers may cache the record); \`kubecontrol gc\` removes it after that. Nothing sleeps.
A colour that fails its judgement changes nothing (exit 7). A colour that does not stand (no
cluster, or one not ACTIVE) is refused (exit 8): build it with update. An app without a DNS name
has nothing to switch (exit 5). Switching to the colour that already has all of DNS is a no-op.

Examples:
  kubecontrol update webapp --keep-old --yes      # green serves, blue kept
  kubecontrol switch webapp --to blue --yes        # back to blue in one change
  kubecontrol switch webapp --to green --dry-run
  kubecontrol --json switch hello --to green --yes --wait-lock 5m`,
    )
    .action(action(async (cmd, app: string) => switchCommand(cmd, app)));
}

/** `kubecontrol switch <app> --to <colour>` (also run by `resume` with the flags of the run it continues). */
export async function switchCommand(cmd: Command, name: string, flags?: SwitchFlags): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, { switchApp }] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../deploy-run.js"),
    import("../../engine/workflows/switch.js"),
  ]);
  const o = flags ?? cmd.opts<SwitchFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app, file } = await loadApp(appsDir, name, loadOptions);
  const { keepSeconds, drainSeconds } = await run.oldColourTiming(config, app);
  const keep = o.keepOld
    ? ({ forever: true } as const)
    : { forMs: Math.max(keepSeconds, drainSeconds) * 1000 };
  const progress = run.progressFor(cmd);
  const question = o.dryRun ? undefined : `move all of ${app.name}'s traffic to ${o.to}?`;
  const outcome = await run.withDeployRun(
    progress,
    config,
    {
      ...(question ? { question } : {}),
      yes: o.yes,
      waitLock: o.waitLock,
      destructive: false,
      notify: o.dryRun ? undefined : { app: app.name, command: "switch" },
    },
    async (ctx) => {
      const inputs = await run.colourBuildInputs(config, app, appsDir, file);
      return switchApp({
        app,
        to: o.to,
        aws: inputs.aws,
        awsEndpoint: inputs.awsEndpoint,
        requestTimeoutMs: inputs.requestTimeoutMs,
        verifyHookFile: inputs.verifyHookFile,
        keep,
        dryRun: o.dryRun,
        ...ctx,
      });
    },
  );
  const version = outcome.version ? outcome.version.slice(0, 12) : "an unknown version";
  if (outcome.dryRun)
    return run.sayDryRun(progress, {
      command: "switch",
      app: app.name,
      what: `to ${o.to}, ${version}`,
      more: { to: o.to, from: outcome.from },
      findings: outcome.dryRun,
      startedAt: started,
      nothing: `${o.to} already has all of DNS: switch would change nothing`,
    });
  const kept =
    "forever" in keep
      ? `${outcome.from} kept at weight 0 with no expiry`
      : `${outcome.from} kept at weight 0 until gc removes it after ${(await import("../../io/format.js")).formatAge(keep.forMs)}`;
  run.sayRunSummary(progress, {
    app: app.name,
    colour: o.to,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict:
      outcome.result === "no-op"
        ? `${o.to} already has all of DNS (${version}), nothing changed`
        : `${o.to} has all of DNS (${version}); ${kept}`,
    next: [
      `kubecontrol status ${app.name}`,
      `kubecontrol switch ${app.name} --to ${outcome.from}`,
      `kubecontrol history ${app.name}`,
    ],
    startedAt: started,
    extra: {
      to: o.to,
      from: outcome.from,
      version: outcome.version ?? null,
      ...("forMs" in keep ? { oldKeptForMs: keep.forMs } : { oldKept: true }),
    },
  });
  return 0;
}
