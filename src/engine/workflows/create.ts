import path from "node:path";
import { preflightImageSource } from "../../images/ensure-image.js";
import { commitSubject, resolveVersion, userSourcesDir } from "../../images/version.js";
import type { Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { preflightAws } from "../preflight/preflight.js";
import type { Step } from "../step.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { type ColourSource, colourSteps } from "./create-graph.js";
import { type DryRunFindings, planGraph, readOnly } from "./dry-run.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** Everything `create` needs; the CLI builds it from flags, configuration and the environment. */
export interface CreateInput extends RunContext, ColourSource {
  colour: Colour;
  /** Any commit-ish of the app's source; default: its head. */
  version?: string | undefined;
  dryRun: boolean;
}

/** What create did (or, with dryRun, would do). */
export interface CreateOutcome extends WorkflowOutcome {
  plan: Plan;
  dryRun?: DryRunFindings;
}

/** Where the app's verify hook is: its spec's deploy.verify.hook, relative to the spec file. */
export function verifyHookFile(app: ResolvedKubeApp, specFile: string): string | undefined {
  const hook = app.deploy.verify.hook;
  return hook ? path.resolve(path.dirname(specFile), hook) : undefined;
}

/** The hint every failure after preflight carries: how to remove what was made. */
export function teardownHint(app: string, colour: Colour): string {
  return `inspect it with \`kubecontrol kubeconfig ${app} --colour ${colour}\`; remove it with \`kubecontrol teardown ${app} --colour ${colour} --force\``;
}

/**
 * `create`: the app's first colour. Resolves the version and plans (read-only), takes the
 * app's lease and records the run, preflights, then runs the create graph (stack and image at
 * once, objects, verification, DNS weight 100). Throws coded errors: LOCKED, PREFLIGHT_FAILED,
 * VERIFY_FAILED, STEP_FAILED, CANCELLED.
 */
export async function createApp(i: CreateInput): Promise<CreateOutcome> {
  const commit = await resolveVersion(i.app, i.projectRoot, i.version, {
    mirrorDir: userSourcesDir(),
  });
  await preflightImageSource(i, commit);
  const plan = planApp({ app: i.app, colour: i.colour, version: commit });
  const graph = (runId: string, deployerArn: string): Step[] =>
    colourSteps(i, {
      plan,
      commit,
      runId,
      deployerArn,
      dnsWeight: 100,
      teardownHint: teardownHint(i.app.name, i.colour),
    });

  if (i.dryRun) {
    // Read-only: no lease, no record; preflight, then the plan of every step, nothing applied.
    return readOnly(async () => {
      const pre = await preflightAws(plan, i.aws, i.app, i.emit);
      await assertPlanOwned(i.aws, plan, plan.aws, {
        adopt: i.adopt === true,
        action: "adopt or change",
        vpcId: pre.network.vpcId,
      });
      const { report, findings } = await planGraph(graph("dry-run", pre.deployerArn), i);
      return { ...outcomeOf("dry-run", report), plan, dryRun: findings };
    });
  }

  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "create",
      version: commit,
      subject: await commitSubject(i.app, i.projectRoot, commit),
      colour: i.colour,
      planHash: plan.hash,
      ...(i.adopt ? { options: { adopt: true } } : {}),
    }),
    async (run) => {
      const pre = await preflightAws(plan, i.aws, i.app, i.emit);
      // Nothing is made while a resource with one of its names is not the app's.
      await assertPlanOwned(i.aws, plan, plan.aws, {
        adopt: i.adopt === true,
        action: "adopt or change",
        vpcId: pre.network.vpcId,
      });
      const report = await run.runGraph(graph(run.runId, pre.deployerArn), {
        concurrency: i.concurrency,
        hint: `fix the cause and run the same command again to continue; DNS was not changed. ${teardownHint(i.app.name, i.colour)}`,
      });
      return { ...outcomeOf(run.runId, report), plan };
    },
  );
}
