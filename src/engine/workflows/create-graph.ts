import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { ImageBuilder } from "../../images/builder.js";
import type { EcrImages } from "../../images/ecr-images.js";
import type { EnsureImageOptions } from "../../images/ensure-image.js";
import { connectCluster, connectOnce } from "../../kube/cluster-access.js";
import {
  envDigestKey,
  readEnvSecretValues,
  withEnvSecret,
  withoutSecretValues,
} from "../../kube/env-secret.js";
import type { AutoScalingGroup, DnsRecord } from "../../plan/aws-types.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { type Step, stepRef } from "../step.js";
import { colourStackSteps, type StackOptions } from "../steps/aws/colour-stack.js";
import { ensureAccessEntryStep } from "../steps/aws/ensure-access-entry.js";
import { shiftDnsStep } from "../steps/aws/shift-dns.js";
import { ensureName, type StackEnv } from "../steps/aws/stack-env.js";
import { ENSURED_IMAGE, ensureImageStep } from "../steps/images/ensure-image.js";
import { keepLiveImageStep } from "../steps/images/keep-live-image.js";
import { type ApplyStepResult, ensureKubeObjectsStep } from "../steps/kube/apply.js";
import { WAIT_FOR_NODES, waitForNodesStep } from "../steps/kube/wait-for-nodes.js";
import { judgeColourSteps, VERIFY_CHECKS, VERIFY_WORKLOADS } from "../steps/verify/judge-colour.js";
import { deferredStep } from "./deferred-step.js";
import { deployerAccessEntry } from "./deployer-access.js";

/** The step that applies the Kubernetes objects. */
const KUBE_OBJECTS = stepRef<ApplyStepResult>("ensure-kube-objects");

/** What building a colour needs besides its plan: the app, where its source and state are, the clients. */
export interface ColourSource {
  app: ResolvedKubeApp;
  projectRoot: string;
  stateDir: string;
  aws: Aws;
  ecr: EcrImages;
  builder: () => Promise<ImageBuilder>;
  /** AWS endpoint for EKS tokens and DescribeCluster (a sandbox); default: AWS's. */
  awsEndpoint?: string | undefined;
  stack?: StackOptions;
  /** The spec's verify hook as a path (deploy.verify.hook resolved against the spec's file). */
  verifyHookFile?: string | undefined;
  /** How long one Kubernetes request may take (the operator's requestTimeout). */
  requestTimeoutMs?: number | undefined;
  /** Take over resources found by name without kubecontrol's tags (`--adopt`). */
  adopt?: boolean | undefined;
}

/** The graph that builds one colour of `i.app` at `commit` (create's, and update's for the idle colour). */
export function colourSteps(
  i: ColourSource,
  o: {
    plan: Plan;
    commit: string;
    runId: string;
    deployerArn: string;
    /** The weight the colour's DNS record gets once verified; none: no DNS step (update's). */
    dnsWeight?: number;
    teardownHint: string;
  },
): Step[] {
  return createSteps({
    app: i.app,
    plan: o.plan,
    aws: i.aws,
    runId: o.runId,
    deployerArn: o.deployerArn,
    image: {
      projectRoot: i.projectRoot,
      version: o.commit,
      stateDir: i.stateDir,
      ecr: i.ecr,
      builder: i.builder,
    },
    awsEndpoint: i.awsEndpoint,
    verifyHookFile: i.verifyHookFile,
    requestTimeoutMs: i.requestTimeoutMs,
    ...(o.dnsWeight !== undefined ? { dnsWeight: o.dnsWeight } : {}),
    teardownHint: o.teardownHint,
    ...(i.stack || i.adopt ? { stack: { ...i.stack, ...(i.adopt ? { adopt: true } : {}) } } : {}),
  });
}

/** What the create graph needs besides the plan. */
export interface CreateGraphInput {
  app: ResolvedKubeApp;
  plan: Plan;
  aws: Aws;
  runId: string;
  /** Who runs the deployment (STS caller ARN): granted cluster access to apply the objects. */
  deployerArn: string;
  image: Omit<EnsureImageOptions, "app" | "progress" | "signal">;
  /** AWS endpoint for EKS tokens and DescribeCluster (a sandbox); default: AWS's. */
  awsEndpoint?: string | undefined;
  /** The weight the colour's DNS record gets once verified; none: no DNS step (update moves DNS itself). */
  dnsWeight?: number;
  teardownHint: string;
  stack?: StackOptions;
  /** How often wait-for-nodes looks at the nodes at first (backing off to 5 s); default 500 ms. */
  nodePollMs?: number;
  /** The spec's verify hook as a path (deploy.verify.hook resolved against the spec's file). */
  verifyHookFile?: string | undefined;
  /** How long one Kubernetes request may take (the operator's requestTimeout). */
  requestTimeoutMs?: number | undefined;
}

/**
 * create as one step graph: the colour's AWS stack and the image at once; then every pool's
 * nodes Ready; then the Kubernetes objects (re-planned with the image by digest, the env Secret
 * filled from Secrets Manager) applied and watched; then the target groups healthy; only then
 * the colour's DNS weight. A failed watch or verification is VERIFY_FAILED and leaves DNS
 * untouched. Verification waits get the spec's deploy.verify.timeout each.
 */
export function createSteps(g: CreateGraphInput): Step[] {
  const { plan, aws } = g;
  const env: StackEnv = {
    plan,
    aws,
    runId: g.runId,
    ...(g.stack?.pace ? { pace: g.stack.pace } : {}),
    ...(g.stack?.adopt ? { adopt: true } : {}),
  };
  const stack = colourStackSteps(plan, aws, g.runId, g.stack);
  const deployer = deployerAccessEntry(plan, g.deployerArn);
  if (deployer) stack.push(ensureAccessEntryStep(deployer, env));
  const idsOf = (kind: string) => plan.aws.filter((r) => r.kind === kind).map((r) => ensureName(r.id));
  const ecr = idsOf("ecr-repository");
  const image = { ...ensureImageStep({ ...g.image, app: g.app }), dependsOn: ecr };
  // The objects as planned, the image by tag: what a plan lists when the image or the cluster is
  // known only after apply.
  const plannedObjects = async () =>
    plan.kubernetes.map((o) => `apply ${o.kind.toLowerCase()}/${o.metadata.name}`);
  const cluster = [
    ...idsOf("eks-cluster"),
    ...idsOf("eks-access-entry"),
    ...idsOf("auto-scaling-group"),
    ...(deployer ? [ensureName(deployer.id)] : []),
  ];
  // One connection to the cluster for the steps that talk to it, made once it can be reached.
  const kubeClient = connectOnce(() =>
    connectCluster({
      clusterName: plan.cluster,
      region: plan.region,
      ...(g.awsEndpoint ? { awsEndpoint: g.awsEndpoint } : {}),
      requestTimeoutMs: g.requestTimeoutMs,
    }),
  );
  const nodes = waitForNodesStep(
    plan.aws.filter((r): r is AutoScalingGroup => r.kind === "auto-scaling-group"),
    { aws, client: kubeClient, dependsOn: cluster, ...(g.nodePollMs ? { pollMs: g.nodePollMs } : {}) },
  );
  const kube = deferredStep(
    {
      name: KUBE_OBJECTS.step,
      description: `apply the Kubernetes objects of ${g.app.name}`,
      dependsOn: [ENSURED_IMAGE.step, WAIT_FOR_NODES],
      timeoutMs: 15 * 60_000,
      preview: plannedObjects,
    },
    async (ctx) => {
      const ensured = ctx.result(ENSURED_IMAGE);
      const planned = planApp({
        app: g.app,
        colour: plan.colour,
        version: plan.version,
        image: ensured.image.reference,
      }).kubernetes;
      const client = await kubeClient();
      // The values go into the objects for the API server only; no event or record carries them.
      const values = await readEnvSecretValues(g.app, (name) => aws.secrets.jsonObject(name));
      const objects =
        values.size > 0
          ? withEnvSecret(planned, g.app, values, await envDigestKey(client, g.app.name))
          : planned;
      // Objects the spec no longer has are removed (only those kubecontrol made for the app).
      const step = ensureKubeObjectsStep(client, objects, { app: g.app.name, prune: true });
      return {
        ...step,
        // The result names what was applied; the Secret's values go no further than the apply.
        apply: async (ctx, needed) => withoutSecretValues(await step.apply!(ctx, needed as string[])),
      };
    },
  );
  const lb = [...idsOf("load-balancer"), ...idsOf("target-group"), ...idsOf("listener")];
  const judged = judgeColourSteps({
    app: g.app,
    plan,
    aws,
    client: kubeClient,
    applied: KUBE_OBJECTS,
    dependsOn: [KUBE_OBJECTS.step],
    targetsDependOn: lb,
    verifyHookFile: g.verifyHookFile,
    hint: `DNS was not changed; the colour is left in place for inspection. ${g.teardownHint}`,
  });
  const steps: Step[] = [
    ...stack,
    image,
    nodes,
    kube,
    ...judged,
    keepLiveImageStep({
      aws,
      repository: repositoryOf(plan),
      colour: plan.colour,
      image: ENSURED_IMAGE,
      dependsOn: [VERIFY_WORKLOADS],
    }),
  ];
  if (g.dnsWeight !== undefined)
    for (const r of plan.aws.filter((x): x is DnsRecord => x.kind === "route53-record"))
      steps.push(shiftDnsStep(r, env, g.dnsWeight, [VERIFY_CHECKS]));
  return steps;
}

/** The name of the app's ECR repository in a plan. */
export function repositoryOf(plan: Plan): string {
  const repo = plan.aws.find((r) => r.kind === "ecr-repository");
  if (!repo) throw new KubecontrolError("INTERNAL", `the plan of ${plan.app} has no ECR repository`);
  return repo.name;
}
