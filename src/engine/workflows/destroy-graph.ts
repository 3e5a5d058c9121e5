import type { AwsOptions } from "../../aws/client-config.js";
import type { Aws } from "../../aws/create-aws.js";
import type { CodeBuildApi } from "../../images/codebuild-api.js";
import type { DnsRecord } from "../../plan/aws-types.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import type { Step } from "../step.js";
import type { StackOptions } from "../steps/aws/colour-stack.js";
import {
  type AppScopedExtra,
  appScopedExtraSteps,
  extraStepName,
  findAppScopedExtras,
} from "../steps/aws/destroy-app-scoped.js";
import { findNetwork, findNetworkStep } from "../steps/aws/find-network.js";
import {
  findOrphans,
  type Orphan,
  orphanDeletionSteps,
  orphanStepName,
  type SweepInput,
} from "../steps/aws/orphan-sweep.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { deleteName, FIND_NETWORK, type StackEnv } from "../steps/aws/stack-env.js";
import { appScopedDeletionSteps, colourDeletionSteps } from "../steps/aws/teardown.js";
import type { RunContext } from "./recorded-run.js";

/** What `destroy` and its listing need. */
export interface DestroyBase extends Pick<RunContext, "concurrency" | "signal"> {
  app: ResolvedKubeApp;
  aws: Aws;
  /** For the CodeBuild client (src/images/codebuild-api.ts): the same region and endpoint. */
  awsOptions: AwsOptions;
  stack?: StackOptions;
}

// Names and tags do not depend on the version: any one plans the same resources.
const ANY_VERSION = "destroy";

export function plansOf(app: ResolvedKubeApp): Plan[] {
  return COLOURS.map((colour) => planApp({ app, colour, version: ANY_VERSION }));
}

/** A colour's step name: `delete-eks-cluster/main` → `delete-eks-cluster/blue/main`. */
export function colourStepName(name: string, colour: Colour): string {
  if (name === FIND_NETWORK) return name;
  const slash = name.indexOf("/");
  return slash < 0 ? `${name}/${colour}` : `${name.slice(0, slash)}/${colour}/${name.slice(slash + 1)}`;
}

/** What was found before the graph is built: resources tagged for the app outside its plans. */
interface Discovery {
  plans: Plan[];
  sweep: SweepInput;
  orphans: Orphan[];
  extras: AppScopedExtra[];
}

/** Finds what is tagged for the app outside its plans (read-only): orphans of its colours, app-scoped extras. */
export async function discover(i: DestroyBase, codebuild: CodeBuildApi): Promise<Discovery> {
  const plans = plansOf(i.app);
  const record = plans[0]!.aws.find((r): r is DnsRecord => r.kind === "route53-record");
  const sweep: SweepInput = { app: i.app.name, livePlans: plans, ...(record ? { record } : {}) };
  const [orphans, extras] = await Promise.all([
    findOrphans(i.aws, sweep),
    findAppScopedExtras(i.aws, codebuild, plans[0]!),
  ]);
  return { plans, sweep, orphans, extras };
}

interface Target {
  kind: string;
  name: string;
  colour: Colour | undefined;
  /** The cluster an access entry belongs to. */
  cluster?: string;
}

/**
 * The destroy graph: each colour's teardown graph (step names carry the colour), whatever else
 * is tagged for the app's colour resources (the orphan sweep), and only after all of those the
 * app-scoped resources: the plan's (IAM roles, instance profile, ECR repository with its images)
 * and those tagged for the app outside the plan (CodeBuild project, former repositories and roles).
 */
export function destroyGraph(
  d: Discovery,
  i: DestroyBase,
  codebuild: CodeBuildApi,
  runId: string,
): { steps: Step[]; targets: Map<string, Target> } {
  const stack = i.stack ?? {};
  const targets = new Map<string, Target>();
  const steps: Step[] = [findNetworkStep(i.aws, d.plans[0]!)];
  const before: string[] = [];

  for (const plan of d.plans) {
    const byStep = new Map(plan.aws.map((r) => [deleteName(r.id), r]));
    for (const s of colourDeletionSteps(plan, i.aws, runId, stack)) {
      const name = colourStepName(s.name, plan.colour);
      steps.push({ ...s, name, dependsOn: (s.dependsOn ?? []).map((x) => colourStepName(x, plan.colour)) });
      before.push(name);
      const r = byStep.get(s.name);
      if (r) targets.set(name, { kind: r.kind, name: r.name, colour: plan.colour, cluster: plan.cluster });
    }
  }

  for (const s of orphanDeletionSteps(i.aws, d.orphans, d.sweep, stack)) {
    steps.push(s);
    before.push(s.name);
  }
  for (const o of d.orphans)
    targets.set(orphanStepName(o), {
      kind: o.kind,
      name: o.name,
      colour: COLOURS.find((c) => c === o.colour),
    });

  const plan = d.plans[0]!;
  const appScoped = new Map(plan.aws.filter((r) => r.scope === "app").map((r) => [deleteName(r.id), r]));
  for (const s of appScopedDeletionSteps(plan, i.aws, runId, stack)) {
    steps.push({ ...s, dependsOn: [...before, ...(s.dependsOn ?? [])] });
    const r = appScoped.get(s.name);
    if (r) targets.set(s.name, { kind: r.kind, name: r.name, colour: undefined });
  }

  const env: StackEnv = { plan, aws: i.aws, runId, ...(stack.pace ? { pace: stack.pace } : {}) };
  for (const s of appScopedExtraSteps(i.aws, codebuild, d.extras, env))
    steps.push({ ...s, dependsOn: before });
  for (const e of d.extras) targets.set(extraStepName(e), { kind: e.kind, name: e.name, colour: undefined });
  return { steps, targets };
}

/** NOT_OWNED (exit 6) when a resource with one of the app's names (either colour's, or the app's) is not its own. */
export async function assertAppOwned(i: DestroyBase, plans: Plan[]): Promise<void> {
  const vpcId = (await findNetwork(i.aws, plans[0]!.network).catch(() => undefined))?.vpcId;
  for (const [n, plan] of plans.entries()) {
    // App-scoped resources are in both plans: look at them once.
    const resources = n === 0 ? plan.aws : plan.aws.filter((r) => r.scope === "colour");
    await assertPlanOwned(i.aws, plan, resources, { adopt: false, action: "delete", vpcId });
  }
}
