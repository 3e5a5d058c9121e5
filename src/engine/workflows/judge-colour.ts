import { KubecontrolError, toKubecontrolError } from "../../errors.js";
import type { KubecontrolEvent } from "../../io/events.js";
import type { KubeClient } from "../../kube/client.js";
import { connectCluster, connectOnce } from "../../kube/cluster-access.js";
import type { Plan } from "../../plan/plan.js";
import { runSteps } from "../runner.js";
import type { StepContext } from "../step.js";
import { judgeColourSteps } from "../steps/verify/judge-colour.js";
import type { ColourSource } from "./create-graph.js";

/** Judges a standing colour; throws VERIFY_FAILED (or CANCELLED) when it does not pass. */
export type ColourJudgement = (ctx: StepContext) => Promise<void>;

/**
 * The judgement verification makes of a colour (every workload ready, every target healthy, the
 * spec's HTTP checks and hook), made again on a colour that already stands: the same steps
 * create and rollout run after applying, run here as one graph of their own with a cluster
 * connection of their own. Their progress becomes the calling step's (`waiting`, logs), not
 * steps of the run: the run's journal records the step that judges. Any failure is
 * VERIFY_FAILED: a colour whose health cannot be read now is not given more traffic.
 */
export function colourJudgement(
  i: Pick<ColourSource, "app" | "aws" | "awsEndpoint" | "requestTimeoutMs" | "verifyHookFile">,
  plan: Plan,
  hint: string,
): ColourJudgement {
  return async (ctx) => {
    let made: Promise<KubeClient> | undefined;
    const client = connectOnce(() => {
      made = connectCluster({
        clusterName: plan.cluster,
        region: plan.region,
        ...(i.awsEndpoint ? { awsEndpoint: i.awsEndpoint } : {}),
        requestTimeoutMs: i.requestTimeoutMs,
      });
      return made;
    });
    const steps = judgeColourSteps({
      app: i.app,
      plan,
      aws: i.aws,
      client,
      dependsOn: [],
      verifyHookFile: i.verifyHookFile,
      hint,
    });
    try {
      const report = await runSteps(steps, { concurrency: 1, emit: relay(ctx), signal: ctx.signal });
      if (report.cancelled) throw ctx.signal.reason ?? new KubecontrolError("CANCELLED", "cancelled");
      const failed = report.steps.find((s) => s.status === "failed");
      if (failed) {
        const e = toKubecontrolError(failed.error);
        if (e.code === "VERIFY_FAILED") throw e;
        throw new KubecontrolError(
          "VERIFY_FAILED",
          `${failed.name} could not judge ${plan.colour}: ${e.message}`,
          {
            cause: e,
            hint,
          },
        );
      }
    } finally {
      if (made) await made.then((c) => c.close()).catch(() => {});
    }
  };
}

/** The judgement's own events, as the progress of the step that runs it. */
function relay(ctx: StepContext): (e: KubecontrolEvent) => void {
  return (e) => {
    if (e.type === "step.waiting") ctx.waiting(`judging: ${e.reason}`);
    else if (e.type === "step.started") ctx.waiting(`judging: ${e.description}`);
    else if (e.type === "log" && e.level !== "debug") ctx.log(e.level, e.message);
    else if (e.type === "step.failed") ctx.log("warn", `${e.step}: ${e.error.message}`);
  };
}
