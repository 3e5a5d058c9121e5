import path from "node:path";
import { type Command, Option } from "commander";
import { ExitCode } from "../exit-codes.js";
import { action } from "../run-action.js";

interface CrontabFlags {
  user?: string;
  gc: string;
  waitLock: string;
  output: "crontab" | "json";
}

/** Registers `kubecontrol crontab`: the cron entries for the apps whose spec has deploy.schedule. */
export function registerCrontabCommand(program: Command): void {
  program
    .command("crontab")
    .description("print cron entries that deploy each app with a deploy.schedule, unattended")
    .option("--user <name>", "write /etc/cron.d lines, run as this user (default: a user crontab)")
    .option("--wait-lock <duration>", "how long a scheduled run waits for another run on the app", "30m")
    .option("--gc <schedule>", 'when gc --all runs (a cron schedule), or "off"', "17 * * * *")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["crontab", "json"]).default("crontab"),
    )
    .addHelpText(
      "after",
      `
Each app whose spec sets deploy.schedule gets one line: blue-green apps run \`update\`, rolling
ones \`rollout\`, at the head of the app's source, with --yes (cron has no terminal),
--wait-lock (an engineer's run in progress is waited for, never raced: the app's lease decides)
and --json, appending to <stateDir>/logs/<app>.log (umask 007: the deployers group's). Paths are
absolute and the configuration file in force is named with --config, so the lines work from
cron's empty environment and share the engineers' store; a state directory or store given only
in this shell's environment is refused (exit 3), as cron would not see it. AWS credentials come
from the host (instance profile or ~/.aws of the user cron runs as). Nothing is installed:
review the output, then install it. One more line runs \`gc --all\` hourly (--gc sets when, or
"off"): kept colours past their retention and idle colours of failed updates are removed there,
so no deployment sleeps holding an app's lease.

Examples:
  kubecontrol crontab
  kubecontrol crontab | crontab -                      # replaces the user's crontab
  kubecontrol crontab --user deploy > /etc/cron.d/kubecontrol`,
    )
    .action(action(async (cmd) => crontabCommand(cmd, cmd.opts<CrontabFlags>())));
}

/** Quotes a word for /bin/sh, and `%` for cron (which turns a bare % into a newline). */
function sh(word: string): string {
  const quoted = /^[A-Za-z0-9_./:=@-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
  return quoted.replaceAll("%", "\\%");
}

async function crontabCommand(cmd: Command, o: CrontabFlags): Promise<number> {
  const [
    { commandSetup },
    { loadApps },
    { globalOptions },
    { reportError },
    { parseDuration, cronProblem },
    errors,
  ] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../context.js"),
    import("../run-action.js"),
    import("../../spec/primitives.js"),
    import("../../errors.js"),
  ]);
  if (parseDuration(o.waitLock) === undefined)
    throw new errors.KubecontrolError(
      "USAGE",
      `--wait-lock: expected a duration such as "90s" or "30m", found "${o.waitLock}"`,
    );
  const gcProblem = o.gc === "off" ? undefined : cronProblem(o.gc);
  if (gcProblem)
    throw new errors.KubecontrolError("USAGE", `--gc: expected a cron schedule or "off": ${gcProblem}`);
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  // Cron's runs must share the engineers' store (their leases, their history): they get the
  // configuration file in force, by path (never a credential in a cron line: /etc/cron.d is
  // world-readable), and nothing of it may live only in this shell's environment.
  const fromEnv = (["stateDir", "historyStore"] as const).flatMap((k) => {
    const source = config.sources[k];
    return source.kind === "env" ? [`${k} comes from $${source.name}`] : [];
  });
  if (fromEnv.length > 0)
    throw new errors.KubecontrolError(
      "CONFIG_INVALID",
      `${fromEnv.join(" and ")}, which cron's runs would not see: they would use another store, outside the engineers' leases`,
      {
        hint: "put it in a configuration file (kubecontrol config shows the keys) and run: kubecontrol --config FILE crontab",
      },
    );
  const { SHARED_STATE_DIR } = await import("../../config/config.js");
  if (!config.file && o.user && config.values.stateDir !== SHARED_STATE_DIR)
    throw new errors.KubecontrolError(
      "CONFIG_INVALID",
      `no configuration file names the state directory, so cron's runs as ${o.user} would use their own (not ${config.values.stateDir})`,
      {
        hint: `make the shared one (README, "The shared host"), or name it in a configuration file and run: kubecontrol --config FILE crontab --user ${o.user}`,
      },
    );
  const { apps, errors: broken } = await loadApps(appsDir, loadOptions);
  for (const e of broken) reportError(e, false);
  const bin = path.resolve(path.dirname(process.argv[1] ?? "kubecontrol"), "kubecontrol");
  const logs = path.join(config.values.stateDir, "logs");
  /** One cron line running `args` in the project, appending to <logs>/<log>.log. */
  const cronLine = (schedule: string, args: string[], log: string) => {
    const run = [
      // The run is recorded as cron's, not a person's (src/cli/trigger.ts).
      "KUBECONTROL_TRIGGER=cron",
      sh(process.execPath),
      sh(bin),
      ...(config.file ? ["--config", sh(path.resolve(config.file))] : []),
      "--apps",
      sh(appsDir),
      "--json",
      ...args,
      "--yes",
      "--wait-lock",
      sh(o.waitLock),
    ].join(" ");
    const file = sh(path.join(logs, `${log}.log`));
    // umask 007: the logs directory and files stay the deployers group's, whoever's run made them.
    return `${schedule} ${o.user ? `${o.user} ` : ""}umask 007 && mkdir -p ${sh(logs)} && cd ${sh(path.dirname(appsDir))} && ${run} >> ${file} 2>&1`;
  };
  const entries = apps
    .filter(({ app }) => app.deploy.schedule)
    .map(({ app }) => {
      const command = app.deploy.strategy === "rolling" ? "rollout" : "update";
      return {
        app: app.name,
        schedule: app.deploy.schedule!,
        command,
        line: cronLine(app.deploy.schedule!, [command, sh(app.name)], app.name),
      };
    })
    .sort((a, b) => a.app.localeCompare(b.app));
  // Kept colours past their retention and idle ones of failed updates are removed by gc.
  if (o.gc !== "off")
    entries.push({ app: "*", schedule: o.gc, command: "gc", line: cronLine(o.gc, ["gc", "--all"], "gc") });
  if (o.output === "json" || globalOptions(cmd).json) {
    process.stdout.write(`${JSON.stringify({ entries }, null, 2)}\n`);
  } else {
    const lines = [
      `# kubecontrol: unattended deployments of the apps in ${appsDir} (kubecontrol crontab)`,
      ...entries.map((e) => e.line),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (!entries.some((e) => e.command !== "gc"))
      process.stderr.write(`no app in ${appsDir} sets deploy.schedule\n`);
  }
  return broken.length > 0 ? ExitCode.INVALID_SPEC : 0;
}
