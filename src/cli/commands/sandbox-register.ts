import type { Command } from "commander";
import { action } from "../run-action.js";

const DIR_HELP =
  "the sandbox directory (default: $KUBECONTROL_SANDBOX, else ~/.local/state/kubecontrol/sandbox)";
const load = () => import("./sandbox.js");
const loadFaults = () => import("./sandbox-faults.js");

/** Registers `kubecontrol sandbox ...`. Loads nothing heavy: implementations are imported in actions. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program
    .command("sandbox")
    .description(
      "a local AWS (moto, mended) and its EKS/registry/load balancer stand-ins, for laptops and CI",
    )
    .addHelpText(
      "after",
      `
Examples:
  kubecontrol sandbox up                     # start (or find running) and seed from ./apps
  eval "$(kubecontrol sandbox env)"          # point the AWS SDK and CLI at it
  kubecontrol sandbox status
  kubecontrol sandbox faults add 'eks:*' throttle --rate 0.3 --seed 7
  kubecontrol sandbox reset                  # back to the seeded state
  kubecontrol sandbox down`,
    );

  sandbox
    .command("up")
    .description("start the sandbox and seed it from the apps (says so and changes nothing when it is up)")
    .option("--dir <dir>", DIR_HELP)
    .option("--region <region>", "AWS region of the sandbox (default: the configured region)")
    .option("--only <components>", "start only these components, comma-separated (moto,proxy: AWS alone)")
    .action(action(async (cmd) => (await load()).sandboxUpCommand(cmd)));

  sandbox
    .command("down")
    .description("stop exactly the processes `up` started")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await load()).sandboxDownCommand(cmd)));

  sandbox
    .command("status")
    .description("each component with its address and health")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await load()).sandboxStatusCommand(cmd)));

  sandbox
    .command("reset")
    .description("return AWS to the seeded state (re-seeded from the apps) and clear call counts and faults")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await load()).sandboxResetCommand(cmd)));

  sandbox
    .command("env")
    .description('print the environment for eval "$(kubecontrol sandbox env)"')
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await load()).sandboxEnvCommand(cmd)));

  sandbox
    .command("kubeconfig")
    .description("print an admin kubeconfig (client certificate) for the control plane of an EKS cluster")
    .argument("<cluster>", "the EKS cluster's name")
    .option("-o, --output <file>", "write it to a file (mode 600) instead of stdout")
    .option("--dir <dir>", DIR_HELP)
    .addHelpText(
      "after",
      `
The engine reaches clusters as on AWS (DescribeCluster + an EKS token); this is for people.

Examples:
  kubecontrol sandbox kubeconfig kc-webapp-blue > /tmp/blue.kubeconfig
  kubectl --kubeconfig /tmp/blue.kubeconfig get nodes`,
    )
    .action(
      action(async (cmd, cluster: string) =>
        (await import("./sandbox-kubeconfig.js")).sandboxKubeconfigCommand(cmd, cluster),
      ),
    );

  sandbox
    .command("quotas")
    .description(
      "lower (or restore) the quotas the sandbox's Service Quotas answers and enforces; shows those set",
    )
    .argument("[settings...]", "CODE=VALUE, or CODE=default")
    .option("--dir <dir>", DIR_HELP)
    .addHelpText(
      "after",
      `
Codes: L-53DA6B97 (Application Load Balancers), L-69A177A2 (Network Load Balancers),
L-1194D53C (EKS clusters), L-1216C47A (On-Demand standard vCPUs), L-34B43A08 (Spot standard vCPUs).

Examples:
  kubecontrol sandbox quotas L-53DA6B97=1 L-1216C47A=2   # preflight then refuses more
  kubecontrol sandbox quotas L-53DA6B97=default          # back to AWS's default`,
    )
    .action(
      action(async (cmd, settings: string[]) =>
        (await import("./sandbox-quotas.js")).sandboxQuotasCommand(cmd, settings),
      ),
    );

  const faults = sandbox
    .command("faults")
    .description("show, add, replace or clear the proxy's fault rules")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await loadFaults()).sandboxFaultsShowCommand(cmd)))
    .addHelpText(
      "after",
      `
Kinds: latency, throttle, 5xx, timeout, garbage, lost-response. A rule fires for a call when
hash(seed, operation, resource, attempt) < rate, so one seed replays the same storm.

Examples:
  kubecontrol sandbox faults                                   # the rules in force
  kubecontrol sandbox faults add 'autoscaling:*' throttle --rate 0.5 --seed 1
  kubecontrol sandbox faults add eks:CreateCluster lost-response --max-attempt 1
  kubecontrol sandbox faults add 'ec2:Describe*' latency --delay-ms 800
  kubecontrol sandbox faults set rules.json                    # {"rules": [...]}; - reads stdin
  kubecontrol sandbox faults clear`,
    );
  faults
    .command("add")
    .description("add one rule")
    .argument("<operation>", "service:Operation glob, e.g. eks:CreateCluster, 'ec2:Describe*', '*'")
    .argument("<kind>", "latency | throttle | 5xx | timeout | garbage | lost-response")
    .option("--rate <rate>", "share of matching calls, 0..1", "1")
    .option("--seed <seed>", "seed of the decision hash", "0")
    .option("--delay-ms <ms>", "latency: added delay; timeout: how long the call hangs")
    .option("--max-attempt <n>", "only attempts up to n (1: retries succeed)")
    .option("--dir <dir>", DIR_HELP)
    .action(
      action(async (cmd, operation: string, kind: string) =>
        (await loadFaults()).sandboxFaultsAddCommand(cmd, operation, kind),
      ),
    );
  faults
    .command("set")
    .description("replace all rules with those in a JSON file ({rules: [...]} or [...]; - for stdin)")
    .argument("<file>", "the rules file")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd, file: string) => (await loadFaults()).sandboxFaultsSetCommand(cmd, file)));
  faults
    .command("clear")
    .description("remove every rule")
    .option("--dir <dir>", DIR_HELP)
    .action(action(async (cmd) => (await loadFaults()).sandboxFaultsClearCommand(cmd)));
}
