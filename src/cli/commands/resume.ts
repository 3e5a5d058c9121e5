import type { Command } from "commander";
import { KubecontrolError } from "../../errors.js";
import type { RunRecord } from "../../history/types.js";
import type { Colour } from "../../plan/names.js";
import { action } from "../run-action.js";

interface ResumeFlags {
  yes: boolean;
  dryRun: boolean;
  waitLock?: string;
}

/**
 * The flags every resumable command understands: version and colour from the run it continues,
 * and the options it recorded (--keep-old and --drain of update, --force of teardown).
 */
interface ResumedFlags {
  version?: string;
  colour?: string;
  yes: boolean;
  dryRun: boolean;
  force: boolean;
  keepOld: boolean;
  adopt: boolean;
  drain?: string;
  waitLock?: string;
}

/** The recorded options as the continued command's flags (runs recorded before options were kept have none). */
export function resumedOptions(
  options: Record<string, unknown> | null,
): Pick<ResumedFlags, "force" | "keepOld" | "adopt" | "drain"> {
  const drainMs = options?.drainMs;
  return {
    force: options?.force === true,
    keepOld: options?.keepOld === true,
    adopt: options?.adopt === true,
    // An update that kept the old colour for the spec's retention recorded the resolvers' drain
    // too: as --drain it would remove the old colour instead, so it is left for update to work out.
    ...(typeof drainMs === "number" && Number.isFinite(drainMs) && !options?.keepForMs
      ? { drain: `${Math.round(drainMs / 1000)}s` }
      : {}),
  };
}

type CommandRunner = (cmd: Command, app: string, flags: ResumedFlags) => Promise<number>;

/** The commands `resume` can continue, each loaded only when needed. */
const RESUMABLE: Record<string, () => Promise<CommandRunner>> = {
  create: async () => (await import("./create.js")).createCommand as CommandRunner,
  teardown: async () => (await import("./teardown.js")).teardownCommand as CommandRunner,
  rollout: async () => (await import("./rollout.js")).rolloutCommand as CommandRunner,
  update: async () => (await import("./update.js")).updateCommand as CommandRunner,
  destroy: async () => (await import("./destroy.js")).destroyCommand as CommandRunner,
  switch: async () => {
    const { switchCommand } = await import("./switch.js");
    return (cmd, app, f) =>
      switchCommand(cmd, app, {
        to: f.colour as Colour,
        keepOld: f.keepOld,
        dryRun: f.dryRun,
        yes: f.yes,
        waitLock: f.waitLock,
      });
  },
  gc: async () => {
    const { gcCommand } = await import("./gc.js");
    return (cmd, app, f) =>
      gcCommand(cmd, [app], { dryRun: f.dryRun, yes: f.yes, parallel: "1", waitLock: f.waitLock });
  },
};

const FINISHED = new Set(["succeeded", "no-op"]);

/** Registers `kubecontrol resume <app>`. */
export function registerResumeCommand(program: Command): void {
  program
    .command("resume")
    .description(
      "continue <app>'s last run if it did not finish: the same command, version, colour and flags",
    )
    .argument("<app>", "the app's name")
    .option(
      "--yes",
      "do not ask for confirmation (needed without a terminal for destructive commands)",
      false,
    )
    .option(
      "--dry-run",
      "say which run would be continued and what its command would change; change nothing",
      false,
    )
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
A run that was interrupted (its process killed, its host gone), cancelled (Ctrl-C) or failed is
continued by running its command again with the version, colour and flags it recorded
(--keep-old, --drain, --force, --adopt): every step
checks before it acts, so what the first run made is found and kept, and the rest is done.
Running the same command by hand does the same; resume saves remembering the flags.
When the last run finished, resume says so and changes nothing (exit 0).

Examples:
  kubecontrol resume webapp --dry-run
  kubecontrol resume webapp
  kubecontrol --json resume hello --yes`,
    )
    .action(action(async (cmd, app: string) => resumeCommand(cmd, app, cmd.opts<ResumeFlags>())));
}

async function resumeCommand(cmd: Command, name: string, o: ResumeFlags): Promise<number> {
  const [{ commandSetup }, { openStore }, { progressFor }] = await Promise.all([
    import("../load.js"),
    import("../../history/open.js"),
    import("../deploy-run.js"),
  ]);
  const { config } = await commandSetup(cmd);
  const store = await openStore(config.values);
  let last: RunRecord | undefined;
  try {
    [last] = await store.listRuns({ app: name, limit: 1 });
  } finally {
    await store.close();
  }
  const progress = progressFor(cmd);
  if (!last)
    throw new KubecontrolError("NOT_FOUND", `no run of ${name} is recorded: there is nothing to resume`, {
      hint: `kubecontrol history shows the runs recorded; kubecontrol create ${name} makes the app`,
    });
  if (FINISHED.has(last.result)) {
    progress.document({ type: "resume", app: name, runId: last.id, result: last.result, resumed: false });
    progress.say(
      `nothing to resume: the last run of ${name} (${last.command}, ${last.id}) ended ${last.result}`,
    );
    return 0;
  }
  const load = RESUMABLE[last.command];
  if (!load)
    throw new KubecontrolError(
      "USAGE",
      `the last run of ${name} was \`${last.command}\`, which cannot be resumed`,
      {
        hint: `run it again by hand; kubecontrol history ${name} shows it`,
      },
    );
  const options = resumedOptions(last.options);
  const flags = [
    ...(options.keepOld ? ["--keep-old"] : []),
    ...(options.force ? ["--force"] : []),
    ...(options.adopt ? ["--adopt"] : []),
    ...(options.drain ? [`--drain ${options.drain}`] : []),
  ];
  progress.say(
    `${o.dryRun ? "would resume" : "resuming"} ${last.command} of ${name}: run ${last.id} (${last.result}${last.version ? `, version ${last.version.slice(0, 12)}` : ""}${last.colour ? `, ${last.colour}` : ""}${flags.length ? `, ${flags.join(" ")}` : ""})`,
  );
  const runner = await load();
  return runner(cmd, name, {
    ...(last.version ? { version: last.version } : {}),
    ...(last.colour ? { colour: last.colour } : {}),
    yes: o.yes,
    dryRun: o.dryRun,
    ...options,
    ...(o.waitLock ? { waitLock: o.waitLock } : {}),
  });
}
