import path from "node:path";
import type { Command } from "commander";
import type { EnsuredImage } from "../../images/ensure-image.js";
import { globalOptions } from "../context.js";
import { action } from "../run-action.js";

/** Registers `kubecontrol image <app>`. Nothing heavy is imported until it runs. */
export function registerImageCommand(program: Command): void {
  program
    .command("image")
    .description("the app's image at a code version: found in the registry, or built and pushed")
    .argument("<app>", "the app's name")
    .option(
      "--version <commit-ish>",
      "code version: commit, tag or branch (default: HEAD of a path source, the default branch of a git remote)",
    )
    .addHelpText(
      "after",
      `
Prints the image reference by tag and digest (<repositoryUri>:<commit>@sha256:...) and whether
it was built now or found in the registry. A version already in ECR is never rebuilt; two runs
asking for the same version at once build it once.

Examples:
  kubecontrol image hello
  kubecontrol image hello --version 3f9c2e1
  kubecontrol --json image webapp --version v1.4.0 | jq -r .reference`,
    )
    .action(action(async (cmd, app: string) => imageCommand(cmd, app)));
}

/** `kubecontrol image <app>`: ensures the image and prints its reference. */
async function imageCommand(cmd: Command, name: string): Promise<number> {
  const started = Date.now();
  // Loaded together (and the SDK with them): on a "found" answer, start-up is most of the time.
  const [
    { commandSetup },
    { loadApp },
    { EcrImages },
    { chooseBuilder },
    { ensureImage },
    { builderSettings },
  ] = await Promise.all([
    import("../load.js"),
    import("../../spec/loader.js"),
    import("../../images/ecr-images.js"),
    import("../../images/choose-builder.js"),
    import("../../images/ensure-image.js"),
    import("../deploy-run.js"),
    import("@aws-sdk/client-ecr"),
  ]);
  const json = globalOptions(cmd).json;
  const opts = cmd.opts<{ version?: string }>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app } = await loadApp(appsDir, name, loadOptions);
  const aws = { region: app.region };
  const stateDir = config.values.stateDir;
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const result = await ensureImage({
      app,
      projectRoot: path.dirname(appsDir),
      version: opts.version,
      stateDir,
      ecr: await EcrImages.create(aws),
      builder: () => chooseBuilder(app, builderSettings(config, app.region)),
      progress: (message) => {
        if (!json) process.stderr.write(`${message}\n`);
      },
      signal: controller.signal,
    });
    const durationMs = Date.now() - started;
    process.stdout.write(json ? `${JSON.stringify(toJson(result, durationMs))}\n` : text(result, durationMs));
    return 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

function toJson(r: EnsuredImage, durationMs: number) {
  return {
    type: "image",
    app: r.app,
    commit: r.commit,
    repositoryUri: r.image.repositoryUri,
    tag: r.image.tag,
    digest: r.image.digest,
    reference: r.image.reference,
    outcome: r.outcome,
    waitedForOtherBuild: r.waitedForOtherBuild,
    ...(r.builder ? { builder: r.builder } : {}),
    ...(r.logs ? { logs: r.logs } : {}),
    durationMs,
  };
}

function text(r: EnsuredImage, durationMs: number): string {
  const seconds = (durationMs / 1000).toFixed(1);
  const how =
    r.outcome === "built"
      ? `built with ${r.builder} and pushed`
      : r.waitedForOtherBuild
        ? "found in the registry (built by another run meanwhile), nothing built"
        : "found in the registry, nothing built";
  return `${r.image.reference}\n${r.app} at ${r.commit}: ${how} (${seconds}s)\n`;
}
