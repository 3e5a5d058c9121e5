import { sdkCodeBuildApi } from "../../images/codebuild-api.js";
import { hashOf } from "../../plan/canonical.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { assertAppOwned, type DestroyBase, destroyGraph, discover, plansOf } from "./destroy-graph.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** Everything the leased, recorded `destroy` needs. */
export interface DestroyInput extends DestroyBase, RunContext {}

/** What destroy never deletes, because the app shares it with other apps or the company. */
export function keptResources(app: ResolvedKubeApp): string[] {
  return [
    ...(app.dns ? [`the hosted zone ${app.dns.zone}`] : []),
    "ACM certificates",
    "secrets in Secrets Manager",
    "the VPC and its subnets",
    "the CodeBuild log group /kubecontrol/image-builds",
  ];
}

/**
 * `destroy`: removes everything of the app, leased and recorded. Both colours' stacks go first
 * (each in its teardown order, the weighted DNS records first), with whatever else is tagged for
 * them; then the app-scoped resources. Each step looks before it acts, so a run that was
 * killed is finished by running it again, and a run when everything is gone changes nothing.
 */
export async function destroyApp(i: DestroyInput): Promise<WorkflowOutcome> {
  const codebuild = await sdkCodeBuildApi(i.awsOptions);
  const plans = plansOf(i.app);
  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "destroy",
      version: null,
      colour: null,
      planHash: hashOf(plans.map((p) => p.hash)),
    }),
    async (run) => {
      // Nothing is removed while a resource with one of the app's names is not the app's.
      await assertAppOwned(i, plans);
      // Looked for again under the lease: what another run made since the listing goes too.
      const graph = destroyGraph(await discover(i, codebuild), i, codebuild, run.runId);
      const report = await run.runGraph(graph.steps, {
        concurrency: i.concurrency,
        hint: `run \`kubecontrol destroy ${i.app.name} --yes\` again to finish: it continues from what is left`,
      });
      return outcomeOf(run.runId, report);
    },
  );
}
