import type { Command } from "commander";
import type { LiveResource } from "../../engine/observe/inventory.js";
import { action } from "../run-action.js";

export interface DestroyFlags {
  dryRun: boolean;
  yes: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol destroy <app>`. Nothing heavy is imported until it runs. */
export function registerDestroyCommand(program: Command): void {
  program
    .command("destroy")
    .description(
      "remove everything of <app>: both colours, then its ECR repository (with its images), IAM roles, CodeBuild project",
    )
    .argument("<app>", "the app's name")
    .option("--dry-run", "list what would be deleted (found live), change nothing", false)
    .option("--yes", "do not ask for the app's name (needed without a terminal)", false)
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
Deletes both colours (each cluster, its nodes, load balancer, target groups, security groups and
weighted DNS record), whatever else is tagged kubecontrol:app=<app>, and then the app-scoped
resources that outlive colours: the ECR repository with all its images, the IAM roles and
instance profile, and the CodeBuild project. It first lists each resource it found live (kind,
name, ARN or id); on a terminal you confirm by typing the app's name. Without a terminal it
refuses (exit 2) unless --yes. Leased and recorded in history like every change. Running it
again when everything is gone changes nothing ("nothing to remove"); after an interruption,
running it again finishes the job.

Never deleted, because the app shares them with other apps or the company: the hosted zone,
ACM certificates, secrets in Secrets Manager, the VPC and its subnets, the CodeBuild log group.
The app's spec in apps/ is not touched either.

Examples:
  kubecontrol destroy hello --dry-run      # what would go, nothing changed
  kubecontrol destroy hello                # lists, then asks for the app's name
  kubecontrol --json destroy hello --yes --wait-lock 10m`,
    )
    .action(action(async (cmd, app: string) => destroyCommand(cmd, app)));
}

const KIND_LABEL: Record<string, string> = {
  "eks-cluster": "EKS cluster",
  "eks-access-entry": "EKS access entry",
  "auto-scaling-group": "Auto Scaling group",
  "launch-template": "launch template",
  "load-balancer": "load balancer",
  "target-group": "target group",
  listener: "listener",
  "security-group": "security group",
  "route53-record": "DNS record",
  "ecr-repository": "ECR repository",
  "iam-role": "IAM role",
  "iam-instance-profile": "IAM instance profile",
  "codebuild-project": "CodeBuild project",
};

/** The listing: one line per resource (scope, kind, name, ARN or id). */
export function resourceLines(live: LiveResource[]): string[] {
  const rows = live.map((r) => [
    r.colour ?? "app",
    KIND_LABEL[r.kind] ?? r.kind,
    r.detail ? `${r.name} (${r.detail})` : r.name,
    r.ref ?? "",
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell))
        .join("  ")
        .trimEnd()}`,
  );
}

/** `kubecontrol destroy <app>` (also run by `resume` with the flags of the run it continues). */
export async function destroyCommand(cmd: Command, name: string, flags?: DestroyFlags): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, { createAws }, wf, { destroyInventory }, { KubecontrolError }] =
    await Promise.all([
      import("../load.js"),
      import("../../spec/loader.js"),
      import("../deploy-run.js"),
      import("../../aws/create-aws.js"),
      import("../../engine/workflows/destroy.js"),
      import("../../engine/observe/inventory.js"),
      import("../../errors.js"),
    ]);
  const o = flags ?? cmd.opts<DestroyFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app } = await loadApp(appsDir, name, loadOptions);
  run.leaseTimes(config, o.waitLock); // a bad --wait-lock is refused before anything is listed or asked
  const progress = run.progressFor(cmd);
  const awsOptions = run.awsOptionsFor(config, app.region);
  const aws = createAws(awsOptions);
  const kept = wf.keptResources(app);

  // The listing reads only: no lease, no record.
  const interrupt = run.interruptSignal();
  const live = await destroyInventory({
    app,
    aws,
    awsOptions,
    concurrency: config.values.concurrency,
    signal: interrupt.signal,
  }).finally(() => interrupt.dispose());
  progress.document({
    type: "destroy-plan",
    app: app.name,
    region: app.region,
    dryRun: o.dryRun,
    resources: live.map(({ kind, name: n, colour, ref, detail }) => ({ kind, name: n, colour, ref, detail })),
    kept,
  });
  if (live.length === 0) {
    progress.say(`${app.name}: no resource of the app is live in ${app.region}: nothing to remove`);
  } else {
    progress.say(
      `${o.dryRun ? "destroy would delete" : "destroy deletes"} these ${live.length} resources of ${app.name} (found live in ${app.region}):`,
    );
    for (const line of resourceLines(live)) progress.say(line);
    progress.say(`kept (shared with other apps or the company): ${kept.join(", ")}`);
  }
  if (o.dryRun) {
    progress.say(
      `\ndry run of destroy ${app.name}: nothing was changed (${((Date.now() - started) / 1000).toFixed(1)}s)`,
    );
    return 0;
  }

  if (live.length > 0 && !o.yes) {
    if (!process.stdin.isTTY)
      throw new KubecontrolError(
        "USAGE",
        `refusing to destroy ${app.name} without a terminal to confirm on`,
        {
          hint: `nothing was changed; pass --yes to delete the resources listed above, or --dry-run to only list them`,
        },
      );
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl
        .question(
          `\nThis deletes them for good (the images too). Type the app's name (${app.name}) to confirm: `,
        )
        .catch((err: unknown) => {
          // Ctrl+C or the end of input while asking.
          throw new KubecontrolError("CANCELLED", "not confirmed: nothing was changed", { cause: err });
        });
      if (answer.trim() !== app.name)
        throw new KubecontrolError(
          "CANCELLED",
          `not confirmed ("${answer.trim()}" is not ${app.name}): nothing was changed`,
        );
    } finally {
      rl.close();
    }
  }

  const outcome = await run.withDeployRun(
    progress,
    config,
    { yes: true, destructive: true, waitLock: o.waitLock, notify: { app: app.name, command: "destroy" } },
    (ctx) =>
      wf.destroyApp({
        app,
        aws,
        awsOptions,
        stack: run.teardownOptionsFor(config),
        ...ctx,
      }),
  );
  run.sayRunSummary(progress, {
    app: app.name,
    colour: undefined,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict: outcome.result === "no-op" ? "nothing to remove" : "destroyed",
    changedLabel: "deleted",
    next: [`kubecontrol history ${app.name}`],
    startedAt: started,
  });
  return 0;
}
