import { KubecontrolError } from "../../errors.js";
import { preflightImageSource } from "../../images/ensure-image.js";
import { commitSubject, resolveVersion, userSourcesDir } from "../../images/version.js";
import type { KubeClient } from "../../kube/client.js";
import type { Colour } from "../../plan/names.js";
import { planApp } from "../../plan/plan.js";
import { liveColour } from "../observe/live-colour.js";
import { ENSURED_IMAGE } from "../steps/images/ensure-image.js";
import type { ImageChange } from "../steps/kube/rollout.js";
import { planGraph, readOnly } from "./dry-run.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";
import {
  type ConnectCluster,
  type GraphInput,
  ROLL_OUT,
  type RolloutSource,
  rolloutSteps,
} from "./rollout-graph.js";

/** Everything `rollout` needs; the CLI builds it from flags, configuration and the environment. */
export interface RolloutInput extends RunContext, RolloutSource {
  /** Any commit-ish of the app's source; default: its head. */
  version?: string | undefined;
  dryRun: boolean;
}

/** What rollout did (or, with dryRun, would do). */
export interface RolloutOutcome extends WorkflowOutcome {
  colour: Colour;
  /** The full commit rolled out. */
  commit: string;
  /** The app image's reference (by digest once in ECR; by tag when a dry run finds it unbuilt). */
  image: string;
  /** Whether the image had to be built (a dry run: would have to be). */
  built: boolean;
  changes: ImageChange[];
  dryRun: boolean;
}

/**
 * `rollout`: the rolling update of the live colour. Resolves the version and finds the live
 * colour (read-only), takes the app's lease and records the run, ensures the image (built only
 * when ECR lacks it) while reaching the cluster, then patches the workloads' images and watches
 * them, undoing the patch when new pods fail (VERIFY_FAILED, exit 7). A rollout of the version
 * already running changes nothing (no-op). Throws coded errors: NOT_FOUND (no live colour, unknown
 * version), PRECONDITION, LOCKED, VERIFY_FAILED, STEP_FAILED, CANCELLED.
 */
export async function rolloutApp(i: RolloutInput): Promise<RolloutOutcome> {
  const [commit, live] = await Promise.all([
    resolveVersion(i.app, i.projectRoot, i.version, { mirrorDir: userSourcesDir() }),
    liveColour(i.app, i.aws),
  ]);
  await preflightImageSource(i, commit);
  const colour = live.colour;
  const plan = planApp({ app: i.app, colour, version: commit });
  const found: GraphInput["found"] = { changes: [] };
  // Every client made is closed at the end (keep-alive connections would hold the process).
  const clients: KubeClient[] = [];
  const connect: ConnectCluster = async (o) => {
    const client = await i.connect(o);
    clients.push(client);
    return client;
  };
  const g: GraphInput<RolloutInput> = { i: { ...i, connect }, commit, colour, plan, found };
  try {
    return i.dryRun ? await readOnly(() => dryRun(g)) : await recorded(g);
  } finally {
    for (const c of clients) c.close();
  }
}

async function recorded(g: GraphInput<RolloutInput>): Promise<RolloutOutcome> {
  const { i, commit, colour, plan, found } = g;
  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "rollout",
      version: commit,
      colour,
      planHash: plan.hash,
      subject: await commitSubject(i.app, i.projectRoot, commit),
    }),
    async (run) => {
      // Another run may have moved DNS while this one waited for the lease: look again.
      const now = await liveColour(i.app, i.aws);
      if (now.colour !== colour)
        throw new KubecontrolError(
          "PRECONDITION",
          `${i.app.name}'s live colour changed while this rollout waited for its lease (${colour} was live, now ${now.colour})`,
          { hint: "run the same rollout again: it rolls onto what is live now" },
        );
      const report = await run.runGraph(rolloutSteps(g), {
        concurrency: i.concurrency,
        hint: `fix the cause and run the same rollout again; DNS was not changed (kubecontrol history ${i.app.name} shows the run)`,
      });
      const outcome = outcomeOf(run.runId, report);
      return {
        ...outcome,
        colour,
        commit,
        image: found.image ?? "",
        built: found.built ?? false,
        changes: outcome.changed.includes(ROLL_OUT) ? found.changes : [],
        dryRun: false,
      };
    },
  );
}

/**
 * Read-only, the plan of the rollout graph: is the image in ECR, and which containers would change
 * from which image to which (an image still to build by tag: its digest is known once built).
 * No lease, no record.
 */
async function dryRun(g: GraphInput<RolloutInput>): Promise<RolloutOutcome> {
  const { report } = await planGraph(rolloutSteps(g), g.i);
  // A check that hit a real problem (a workload the cluster lacks) fails the dry run as it would the rollout.
  const failed = report.steps.find((s) => s.status === "failed");
  if (failed?.error) throw failed.error;
  const built = report.steps.find((s) => s.name === ENSURED_IMAGE.step)?.planned?.action === "change";
  return {
    ...outcomeOf("dry-run", report),
    result: g.found.changes.length === 0 && !built ? "no-op" : "succeeded",
    changed: [],
    colour: g.colour,
    commit: g.commit,
    image: g.found.image ?? "",
    built,
    changes: g.found.changes,
    dryRun: true,
  };
}
