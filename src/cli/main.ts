import { Command, Option } from "commander";
import { registerEnvironmentSecrets } from "../io/redact.js";
import { registerConsoleCommand } from "./commands/console.js";
import { registerCreateCommand } from "./commands/create.js";
import { registerCrontabCommand } from "./commands/crontab.js";
import { registerDestroyCommand } from "./commands/destroy.js";
import { registerGcCommand } from "./commands/gc.js";
import { registerImageCommand } from "./commands/image.js";
import { registerKubeconfigCommand } from "./commands/kubeconfig.js";
import { registerResumeCommand } from "./commands/resume.js";
import { registerRolloutCommand } from "./commands/rollout.js";
import { registerSandboxCommands } from "./commands/sandbox-register.js";
import { registerSwitchCommand } from "./commands/switch.js";
import { registerTeardownCommand } from "./commands/teardown.js";
import { registerUpdateCommand } from "./commands/update.js";
import { ExitCode } from "./exit-codes.js";
import { action } from "./run-action.js";

const EXIT_CODES_HELP = `
Exit codes:
  0    success (including "nothing to do")
  1    unexpected failure (a bug or an unclassified error)
  2    usage error: unknown command, flag or argument
  3    invalid KubeApp spec or configuration (nothing was changed)
  4    another run holds the app's lease
  5    preflight failed (nothing was changed)
  6    a deployment step failed (the run can be resumed)
  7    verification failed (DNS untouched)
  8    not found (app, colour, cluster)
  9    a prerequisite is missing on this machine
  10   status: some app is not healthy
  11   update or rollout of several apps: apps failed with different exit codes
  130  cancelled (SIGINT/SIGTERM)`;

/** Builds the commander program. Command implementations are imported only when they run. */
export function buildProgram(): Command {
  const program = new Command("kubecontrol")
    .description("Deploy KubeApps (services defined as TypeScript in apps/) onto their own EKS clusters.")
    .version(process.env.npm_package_version ?? "0.1.0", "-V, --version-info", "print kubecontrol's version")
    .option("--apps <dir>", "directory holding the KubeApp specs", "apps")
    .option(
      "--config <file>",
      "operator configuration file (default: $KUBECONTROL_CONFIG or ~/.config/kubecontrol/config.yaml)",
    )
    .addOption(
      new Option("--log-level <level>", "diagnostic log level (stderr)")
        .choices(["silent", "error", "warn", "info", "debug", "trace"])
        .default("warn"),
    )
    .option("--json", "machine-readable output: one JSON document or event per line on stdout", false)
    .option("--no-color", "disable colours")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol list                           # the apps in ./apps
  kubecontrol validate                       # check every spec
  kubecontrol plan webapp -o yaml            # what a deployment of webapp would make
  kubecontrol sandbox up && eval "$(kubecontrol sandbox env)"
${EXIT_CODES_HELP}`,
    );

  program.exitOverride((err) => {
    // commander's own errors (unknown option, missing argument) are usage errors.
    if (
      err.code === "commander.helpDisplayed" ||
      err.code === "commander.version" ||
      err.code === "commander.help"
    ) {
      process.exit(ExitCode.OK);
    }
    process.exit(err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  });

  program
    .command("list")
    .alias("ls")
    .description("list the KubeApps found in the apps directory")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "json", "name"])
        .default("table"),
    )
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol list
  kubecontrol list -o name
  kubecontrol --apps ../infra/apps list -o json`,
    )
    .action(action(async (cmd) => (await import("./commands/list.js")).listCommand(cmd)));

  program
    .command("validate")
    .description("load and validate KubeApp specs (all of them when no app is named)")
    .argument("[app...]", "app names to validate")
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol validate                 # every spec in ./apps
  kubecontrol validate webapp hello
  kubecontrol --json validate          # one JSON document with every problem found`,
    )
    .action(
      action(async (cmd, apps: string[]) =>
        (await import("./commands/validate.js")).validateCommand(cmd, apps),
      ),
    );

  program
    .command("plan")
    .description("show the AWS resources and Kubernetes objects a deployment of <app> would make")
    .argument("<app>", "the app's name")
    .addOption(
      new Option("--colour <colour>", "which colour to plan").choices(["blue", "green"]).default("blue"),
    )
    .option("--version <commit>", "code version (commit) for the image tag", "HEAD")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "yaml", "json"]).default("text"),
    )
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol plan webapp
  kubecontrol plan webapp --colour green --version 3f9c2e1 -o yaml
  kubecontrol plan hello -o json | jq '.aws[].name'`,
    )
    .action(action(async (cmd, app: string) => (await import("./commands/plan.js")).planCommand(cmd, app)));

  program
    .command("config")
    .description("show the operator configuration in force and where each value came from")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol config
  KUBECONTROL_REGION=eu-west-1 kubecontrol config -o json`,
    )
    .action(action(async (cmd) => (await import("./commands/config.js")).configCommand(cmd)));

  program
    .command("status")
    .description(
      "each app as it is now, read live: which colour serves, its version, workloads, nodes, DNS weights, lease, last run, and one word of health",
    )
    .argument("[app...]", "the apps to show")
    .option("--all", "every app in the apps directory")
    .option("--problems", "only the apps that are not healthy")
    .option("--parallel <n>", "apps read at once", "8")
    .option("--watch", "read again every --interval and show what changed, until Ctrl-C")
    .option("--interval <duration>", "with --watch: how often to read", "5s")
    .option(
      "--from <file>",
      "read a snapshot that status -o json wrote, instead of AWS, the clusters and the store",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .addHelpText(
      "after",
      `
Columns: the live colour's version (and how many commits it is behind the head of the app's
source), workloads ready, load balancer targets healthy, nodes Ready of desired per pool (spot
pools marked), the age of its cluster; each colour's cluster status, DNS weight and, for a colour
kept after a switch, how long it is kept; the lease holder and the last run.

Health: healthy (one colour serves, every workload ready), degraded (some workload not ready,
traffic split, cluster not ACTIVE or unreadable), deploying (a run holds the lease), failed
(nothing serves though a colour stands, or DNS points at a colour without a cluster), absent
(nothing stands), unknown (could not be read).

Exit codes: 0 every app healthy or absent; 10 some app is not; 2 usage; 3 a spec that does not
load; 6 no app could be read (credentials, access); 8 an unknown app.

Examples:
  kubecontrol status webapp
  kubecontrol status --all --problems
  kubecontrol status webapp --watch --interval 10s
  kubecontrol status --all -o json > fleet.json && kubecontrol status --all --from fleet.json
  kubecontrol status --all -o json | jq '.apps[] | select(.health != "healthy") | .app'`,
    )
    .action(
      action(async (cmd, apps: string[]) => (await import("./commands/status.js")).statusCommand(cmd, apps)),
    );

  program
    .command("history")
    .description("past runs (who, what, which version, result, duration), newest first")
    .argument("[app]", "only this app's runs")
    .option("--since <when>", 'only runs started since a duration ago ("24h") or a date ("2026-11-01")')
    .addOption(
      new Option("--result <result>", "only runs with this result").choices([
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "no-op",
        "interrupted",
      ]),
    )
    .option("--limit <n>", "at most this many runs", "50")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol history
  kubecontrol history webapp --since 7d --result failed
  kubecontrol history hello -o json | jq '.runs[0]'`,
    )
    .action(
      action(async (cmd, app: string | undefined) =>
        (await import("./commands/history.js")).historyCommand(cmd, app),
      ),
    );

  registerCreateCommand(program);
  registerTeardownCommand(program);
  registerResumeCommand(program);
  registerRolloutCommand(program);
  registerDestroyCommand(program);
  registerUpdateCommand(program);
  registerSwitchCommand(program);
  registerGcCommand(program);
  registerCrontabCommand(program);
  registerImageCommand(program);
  registerKubeconfigCommand(program);
  registerConsoleCommand(program);
  registerSandboxCommands(program);
  return program;
}

/** CLI entry point (bin/kubecontrol). */
export async function main(argv: string[]): Promise<void> {
  // The SDK warns every Node 20 user that its 2027 releases need Node 22; the lock file pins
  // versions that run here, so the warning is ours to track, not our users' to read on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  // Secrets the environment hands this process are scrubbed from everything it prints or records.
  registerEnvironmentSecrets();
  // `kubecontrol history | head`: a reader that went away is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  await buildProgram().parseAsync(argv);
}
