import type { AwsOptions } from "../../aws/client-config.js";
import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import { type CodeBuildApi, sdkCodeBuildApi } from "../../images/codebuild-api.js";
import type { DnsRecord } from "../../plan/aws-types.js";
import { hashOf } from "../../plan/canonical.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { runSteps } from "../runner.js";
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
import { teardownSteps } from "../steps/aws/teardown.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** What `destroy` and its listing need. */
export interface DestroyBase extends Pick<RunContext, "concurrency" | "signal"> {
  app: ResolvedKubeApp;
  aws: Aws;
  /** For the CodeBuild client (src/images/codebuild-api.ts): the same region and endpoint. */
  awsOptions: AwsOptions;
  stack?: StackOptions;
}

/** Everything the leased, recorded `destroy` needs. */
export interface DestroyInput extends DestroyBase, RunContext {}

/** A resource of the app that is live and that destroy deletes. */
export interface LiveResource {
  /** The step that deletes it. */
  step: string;
  /** The resource kind (`eks-cluster`, `iam-role`, `codebuild-project`…). */
  kind: string;
  /** Its AWS name (a DNS record: `<record>/<set identifier>`). */
  name: string;
  /** The colour it belongs to; undefined for app-scoped resources. */
  colour: Colour | undefined;
  /** Its ARN, or its id where AWS gives no ARN (security group, launch template, hosted zone). */
  ref: string | undefined;
  /** More to know (an ECR repository's image count). */
  detail?: string;
}

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

// Names and tags do not depend on the version: any one plans the same resources.
const ANY_VERSION = "destroy";

function plansOf(app: ResolvedKubeApp): Plan[] {
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

async function discover(i: DestroyBase, codebuild: CodeBuildApi): Promise<Discovery> {
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
function destroyGraph(
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
    for (const s of teardownSteps(plan, i.aws, runId, stack)) {
      if (s.name === FIND_NETWORK) continue;
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
  for (const s of teardownSteps(plan, i.aws, runId, { ...stack, destroy: true })) {
    const r = appScoped.get(s.name);
    if (!r) continue;
    const within = (s.dependsOn ?? []).filter((x) => appScoped.has(x));
    steps.push({ ...s, dependsOn: [...before, ...within] });
    targets.set(s.name, { kind: r.kind, name: r.name, colour: undefined });
  }

  const env: StackEnv = { plan, aws: i.aws, runId, ...(stack.pace ? { pace: stack.pace } : {}) };
  for (const s of appScopedExtraSteps(i.aws, codebuild, d.extras, env))
    steps.push({ ...s, dependsOn: before });
  for (const e of d.extras) targets.set(extraStepName(e), { kind: e.kind, name: e.name, colour: undefined });
  return { steps, targets };
}

/** An ARN in what a lookup found, else the id AWS names it by. */
function arnOf(found: unknown): string | undefined {
  if (typeof found === "string") return found;
  if (!found || typeof found !== "object") return undefined;
  const o = found as Record<string, unknown>;
  for (const [k, v] of Object.entries(o))
    if (/arn$/i.test(k) && typeof v === "string" && v.startsWith("arn:")) return v;
  for (const k of ["GroupId", "LaunchTemplateId", "zoneId"])
    if (typeof o[k] === "string") return o[k] as string;
  return undefined;
}

// Listed as they go: each colour in teardown order, then the app-scoped resources.
const KIND_ORDER = [
  "route53-record",
  "listener",
  "load-balancer",
  "target-group",
  "auto-scaling-group",
  "launch-template",
  "eks-access-entry",
  "eks-cluster",
  "security-group",
  "codebuild-project",
  "ecr-repository",
  "iam-instance-profile",
  "iam-role",
];
const ORDER = (r: LiveResource) =>
  (r.colour === undefined ? 2 : COLOURS.indexOf(r.colour)) * 100 + KIND_ORDER.indexOf(r.kind);

/**
 * What destroy would delete, as found live: every step of the destroy graph checked (reads
 * only), each resource its check finds listed with its ARN or id. Nothing is changed, no lease
 * is taken, nothing is recorded.
 */
export async function destroyInventory(i: DestroyBase): Promise<LiveResource[]> {
  const codebuild = await sdkCodeBuildApi(i.awsOptions);
  await assertAppOwned(i, plansOf(i.app));
  const graph = destroyGraph(await discover(i, codebuild), i, codebuild, "inventory");
  const probes: Step[] = graph.steps
    .filter((s) => s.name === FIND_NETWORK || graph.targets.has(s.name))
    .map((s) =>
      s.name === FIND_NETWORK
        ? s
        : {
            name: s.name,
            description: s.description,
            dependsOn: [FIND_NETWORK],
            async check(ctx) {
              const c = await s.check(ctx);
              return c.satisfied
                ? { satisfied: true, reason: c.reason }
                : { satisfied: true, reason: c.reason, value: { found: c.needed ?? true } };
            },
          },
    );
  const report = await runSteps(probes, { concurrency: i.concurrency, signal: i.signal });
  if (report.cancelled) throw new KubecontrolError("CANCELLED", "interrupted: nothing was changed");
  const failed = report.steps.find((s) => s.status === "failed");
  if (failed?.error)
    throw failed.error instanceof KubecontrolError
      ? failed.error
      : new KubecontrolError("AWS", `looking for ${failed.name}'s resource failed: ${failed.error.message}`, {
          cause: failed.error,
        });

  const live: LiveResource[] = [];
  for (const [step, t] of graph.targets) {
    const value = report.results.get(step) as { found: unknown } | undefined;
    if (!value) continue;
    const { cluster: _, ...target } = t;
    live.push({
      step,
      ...target,
      ref: arnOf(value.found),
      ...(t.kind === "eks-access-entry" ? { detail: `of cluster ${t.cluster}` } : {}),
    });
  }
  await Promise.all(
    live
      .filter((r) => r.kind === "ecr-repository")
      .map(async (r) => {
        const n = await i.aws.ecr.imageCount(r.name);
        if (n !== undefined) r.detail = `${n} image${n === 1 ? "" : "s"}`;
      }),
  );
  return live.sort((a, b) => ORDER(a) - ORDER(b));
}

/** NOT_OWNED (exit 6) when a resource with one of the app's names (either colour's, or the app's) is not its own. */
async function assertAppOwned(i: DestroyBase, plans: Plan[]): Promise<void> {
  const vpcId = (await findNetwork(i.aws, plans[0]!.network).catch(() => undefined))?.vpcId;
  for (const [n, plan] of plans.entries()) {
    // App-scoped resources are in both plans: look at them once.
    const resources = n === 0 ? plan.aws : plan.aws.filter((r) => r.scope === "colour");
    await assertPlanOwned(i.aws, plan, resources, { adopt: false, action: "delete", vpcId });
  }
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
