import { KubecontrolError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { connectOnce } from "../../kube/cluster-access.js";
import { type ImageUpdate, workloadUpdates } from "../../kube/rollout.js";
import { refOf } from "../../kube/watch/wait-for-objects.js";
import { type KubeObject, progressDeadlineOf } from "../../plan/kubernetes.js";
import type { Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { type Step, stepRef } from "../step.js";
import { ENSURED_IMAGE, ensureImageStep } from "../steps/images/ensure-image.js";
import { keepLiveImageStep } from "../steps/images/keep-live-image.js";
import { recordVersionStep } from "../steps/kube/record-version.js";
import { type ImageChange, imageChanges, type RollingOut, rollOutImagesStep } from "../steps/kube/rollout.js";
import { judgeColourSteps, VERIFY_WORKLOADS } from "../steps/verify/judge-colour.js";
import { type ColourSource, repositoryOf } from "./create-graph.js";
import { deferredStep } from "./deferred-step.js";

/** The live cluster, reached: what the rollout and its judgement talk to. */
const LIVE_CLUSTER = stepRef<KubeClient>("find-live-cluster");
/** The step that patches the workloads' images and watches them. */
export const ROLL_OUT = "roll-out-images";

/** A connection to the live colour's cluster, made once it is known. */
export type ConnectCluster = (o: { clusterName: string; region: string }) => Promise<KubeClient>;

/** What the rollout graph builds from: the app, where its source and image are, its live cluster. */
export interface RolloutSource
  extends Pick<
    ColourSource,
    "app" | "projectRoot" | "stateDir" | "aws" | "ecr" | "builder" | "verifyHookFile"
  > {
  /** How to reach a cluster (EKS token access by default in the CLI). */
  connect: ConnectCluster;
}

/**
 * Which containers would change image. Workloads the plan has but the cluster lacks are a
 * precondition failure: a rollout changes images, it adds nothing.
 */
async function changesOnCluster(
  client: KubeClient,
  updates: ImageUpdate[],
  colour: Colour,
  app: string,
): Promise<{ changes: ImageChange[]; stale: ImageUpdate[] }> {
  const { changes, stale, missing } = await imageChanges(client, updates);
  if (missing.length > 0)
    throw new KubecontrolError(
      "PRECONDITION",
      `${missing.map(refOf).join(", ")} of ${app} ${missing.length === 1 ? "is" : "are"} in the spec but not on the ${colour} cluster: a rollout only changes images`,
      { hint: `new components come with a blue/green update: kubecontrol update ${app}` },
    );
  return { changes, stale };
}

/**
 * How long a workload may take to roll out: the spec's verification timeout, which is also the
 * Deployments' progress deadline, plus a moment for the controller's verdict (with its reason).
 */
function watchTimeoutMs(app: ResolvedKubeApp): number {
  return progressDeadlineOf(app) * 1000 + 15_000;
}

export interface GraphInput<I extends RolloutSource = RolloutSource> {
  i: I;
  commit: string;
  colour: Colour;
  plan: Plan;
  /** Filled in as the rollout step learns it. */
  found: { image?: string; built?: boolean; changes: ImageChange[] };
}

/**
 * The rollout graph: the image (found in ECR, built only when missing) and the live cluster at
 * once, then the images patched and watched (undone when new pods fail).
 */
export function rolloutSteps(g: GraphInput): Step[] {
  const { i, plan } = g;
  const image: Step = ensureImageStep({
    app: i.app,
    projectRoot: i.projectRoot,
    version: g.commit,
    stateDir: i.stateDir,
    ecr: i.ecr,
    builder: i.builder,
  });
  // One connection to the live cluster, for the rollout and its verification.
  const client = connectOnce(() => i.connect({ clusterName: plan.cluster, region: plan.region }));
  const cluster: Step<undefined, KubeClient> = {
    name: LIVE_CLUSTER.step,
    description: `reach ${i.app.name}'s ${g.colour} cluster ${plan.cluster}`,
    async check() {
      return { satisfied: true, reason: `${plan.cluster} serves traffic`, value: await client() };
    },
    summarize: () => `${plan.cluster} (${g.colour}, live)`,
  };
  const timeoutMs = watchTimeoutMs(i.app);
  const rollout = deferredStep(
    {
      name: ROLL_OUT,
      description: `roll ${i.app.name}'s ${g.colour} workloads onto ${g.commit.slice(0, 12)}`,
      dependsOn: [ENSURED_IMAGE.step, LIVE_CLUSTER.step],
      // The watch, and as long again for the undo.
      timeoutMs: 2 * timeoutMs + 60_000,
      // In a plan with the image still to build: the changes to its tag (its digest comes with the build).
      async preview(ctx) {
        const repository = await i.ecr.repository(i.app.image.repository);
        g.found.image = `${repository.uri}:${g.commit}`;
        const objects = planApp({
          app: i.app,
          colour: g.colour,
          version: g.commit,
          image: g.found.image,
        }).kubernetes;
        const { changes } = await changesOnCluster(
          ctx.result(LIVE_CLUSTER),
          workloadUpdates(objects),
          g.colour,
          i.app.name,
        );
        g.found.changes = changes;
        return changes.map((c) => `${c.workload} ${c.container}: ${c.from || "(none)"} -> ${c.to}`);
      },
    },
    async (ctx) => {
      const ensured = ctx.result(ENSURED_IMAGE);
      const client = ctx.result(LIVE_CLUSTER);
      g.found.image = ensured.image.reference;
      g.found.built = ensured.outcome === "built";
      const objects = planApp({
        app: i.app,
        colour: g.colour,
        version: g.commit,
        image: ensured.image.reference,
      }).kubernetes;
      return rollOutStep(client, objects, g, timeoutMs);
    },
  );
  return [image, cluster, rollout, ...judgement(g, client)];
}

/**
 * The judgement every deployment makes, after the patch and on every run (a re-run that finds
 * the images in place still judges them): every workload ready, then, for an app behind a load
 * balancer, its targets healthy and the spec's HTTP checks and hook passing.
 */
function judgement(g: GraphInput, client: () => Promise<KubeClient>): Step[] {
  const { i, plan } = g;
  const judged = judgeColourSteps({
    app: i.app,
    plan,
    aws: i.aws,
    client,
    dependsOn: [ROLL_OUT],
    verifyHookFile: i.verifyHookFile,
    hint: `${i.app.name}'s ${g.colour} colour serves the rolled-out pods; roll back with \`kubecontrol rollout ${i.app.name} --version <the previous version>\` (kubecontrol history ${i.app.name} shows it)`,
  });
  const keep = keepLiveImageStep({
    aws: i.aws,
    repository: repositoryOf(plan),
    colour: g.colour,
    image: ENSURED_IMAGE,
    dependsOn: [VERIFY_WORKLOADS],
  });
  // The version the workloads run, where the plan records it, once they are judged ready.
  const record = recordVersionStep({
    client,
    objects: plan.kubernetes,
    version: g.commit,
    dependsOn: [VERIFY_WORKLOADS],
  });
  return [...judged, keep, record];
}

/**
 * `rollOutImagesStep` with a check that also says what changes from which image to which, and
 * refuses a workload the cluster lacks.
 */
function rollOutStep(
  client: KubeClient,
  objects: KubeObject[],
  g: GraphInput,
  timeoutMs: number,
): Step<ImageUpdate[], RollingOut> {
  const updates = workloadUpdates(objects);
  const inner = rollOutImagesStep(client, updates, {
    timeoutMs: { Deployment: timeoutMs, DaemonSet: timeoutMs },
  });
  return {
    ...inner,
    async check() {
      const { changes, stale } = await changesOnCluster(client, updates, g.colour, g.i.app.name);
      g.found.changes = changes;
      return stale.length === 0
        ? { satisfied: true, reason: `every workload already runs ${g.commit.slice(0, 12)}` }
        : { satisfied: false, reason: `${stale.map(refOf).join(", ")} run other images`, needed: stale };
    },
  };
}
