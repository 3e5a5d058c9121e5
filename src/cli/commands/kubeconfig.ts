import { type Command, Option } from "commander";
import type { Colour } from "../../plan/names.js";
import { globalOptions } from "../context.js";
import { action } from "../run-action.js";

/** Registers `kubecontrol kubeconfig <app>`. Nothing heavy is imported until it runs. */
export function registerKubeconfigCommand(program: Command): void {
  program
    .command("kubeconfig")
    .description(
      "a kubeconfig for the app's EKS cluster: printed, or merged into your kubeconfig with --write",
    )
    .argument("<app>", "the app's name")
    .addOption(
      new Option("--colour <colour>", "which colour's cluster (default: the live one)").choices([
        "blue",
        "green",
      ]),
    )
    .option(
      "--write",
      "merge it into $KUBECONFIG (first file) or ~/.kube/config and make it the current context",
    )
    .option("--file <path>", "with --write: the kubeconfig file to merge into")
    .addHelpText(
      "after",
      `
Without --colour it is the live colour's cluster (the one DNS sends traffic to, or the only one
that stands); when that is unclear (no colour serves and two stand) it asks for --colour (exit 2).
The user entry runs \`aws eks get-token\` for each token (as \`aws eks update-kubeconfig\` writes
it), so the file holds no secret. Nothing is written unless --write is given.

Examples:
  kubecontrol kubeconfig webapp > /tmp/webapp.kubeconfig
  kubecontrol kubeconfig webapp --colour green --write
  kubectl --context kc-webapp-green get deployments -A`,
    )
    .action(action(async (cmd, app: string) => kubeconfigCommand(cmd, app)));
}

/** Prints the app's cluster's kubeconfig, or merges it into a kubeconfig file with --write. */
async function kubeconfigCommand(cmd: Command, name: string): Promise<number> {
  const { stringify } = await import("yaml");
  const { commandSetup } = await import("../load.js");
  const { loadApp } = await import("../../spec/loader.js");
  const { namesFor } = await import("../../plan/names.js");
  const { describeClusterEndpoint } = await import("../../kube/describe-cluster.js");
  const { defaultKubeconfigPath, eksKubeconfig, writeKubeconfigEntry } = await import(
    "../../kube/kubeconfig-file.js"
  );
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const opts = cmd.opts<{ colour?: Colour; write?: boolean; file?: string }>();
  const { app } = await loadApp(appsDir, name, loadOptions);
  const colour = opts.colour ?? (await liveColourOf(app, config));
  const clusterName = namesFor(app.name, colour).cluster;
  const cluster = await describeClusterEndpoint(clusterName, { region: app.region });
  // A sandbox is reached through AWS_ENDPOINT_URL: the credential plugin needs it too.
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const entry = eksKubeconfig({
    cluster,
    region: app.region,
    name: clusterName,
    ...(endpoint ? { env: { AWS_ENDPOINT_URL: endpoint } } : {}),
  });
  const json = globalOptions(cmd).json;
  if (!opts.write) {
    process.stdout.write(json ? `${JSON.stringify(entry)}\n` : stringify(entry));
    return 0;
  }
  const file = opts.file ?? defaultKubeconfigPath();
  await writeKubeconfigEntry(file, entry);
  if (json) process.stdout.write(`${JSON.stringify({ context: clusterName, file, written: true })}\n`);
  else process.stdout.write(`wrote context ${clusterName} to ${file} and made it current\n`);
  return 0;
}

/** The colour a kubeconfig is for when none is named: the live one, else the only one standing. */
async function liveColourOf(
  app: import("../../spec/resolve.js").ResolvedKubeApp,
  config: import("../../config/config.js").ResolvedConfig,
): Promise<Colour> {
  const [{ createAws }, { awsOptionsFor }, { observeApp }, { decideLiveColour }, { KubecontrolError }] =
    await Promise.all([
      import("../../aws/create-aws.js"),
      import("../deploy-run.js"),
      import("../../engine/observe/live-state.js"),
      import("../../engine/decide/live-colour.js"),
      import("../../errors.js"),
    ]);
  const live = decideLiveColour(await observeApp(app, createAws(awsOptionsFor(config, app.region))));
  if (live.kind === "live") return live.colour;
  if (live.kind === "none" && live.standing.length === 1) return live.standing[0]!;
  if (live.kind === "none" && live.standing.length === 0)
    throw new KubecontrolError("NOT_FOUND", `${app.name} has no cluster: ${live.why}`, {
      hint: `create it first: kubecontrol create ${app.name}`,
    });
  throw new KubecontrolError("USAGE", `which colour of ${app.name} to use is unclear: ${live.why}`, {
    hint: `name it: kubecontrol kubeconfig ${app.name} --colour blue`,
  });
}
