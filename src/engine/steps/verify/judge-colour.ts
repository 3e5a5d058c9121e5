import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { KubeClient } from "../../../kube/client.js";
import { progressDeadlineOf } from "../../../plan/kubernetes.js";
import type { Plan } from "../../../plan/plan.js";
import type { ResolvedKubeApp } from "../../../spec/resolve.js";
import type { Step, StepRef } from "../../step.js";
import { VERIFY_CHECKS, verifyChecksStep } from "./checks.js";
import { VERIFY_TARGETS, verifyTargetsStep } from "./targets.js";
import { type Applied, VERIFY_WORKLOADS, verifyWorkloadsStep } from "./workloads.js";

export interface JudgeColourInput {
  app: ResolvedKubeApp;
  /** The colour's plan (its objects, target groups, load balancer and record). */
  plan: Plan;
  aws: Aws;
  client: () => Promise<KubeClient>;
  /** The step that applied the objects, when this run applies them (its generations are awaited). */
  applied?: StepRef<Applied | undefined>;
  /** What the workloads' judgement waits for (the apply). */
  dependsOn: string[];
  /** What the targets' judgement also waits for (the load balancer's steps). */
  targetsDependOn?: string[];
  /** The spec's verify hook as a path. */
  verifyHookFile?: string | undefined;
  /** What to say after a failure (where traffic is, how to inspect or remove the colour). */
  hint: string;
}

/**
 * The judgement a colour passes before DNS moves to it, the same for every command that moves
 * DNS (create, update, switch): every workload ready, every target of its load balancer healthy,
 * then the spec's HTTP checks and hook. Each waits up to deploy.verify.timeout; failing is
 * VERIFY_FAILED (exit 7), so nothing that depends on the last step ({@link VERIFY_CHECKS}) moves.
 * A colour without a load balancer (nor checks) is judged by its workloads alone.
 */
export function judgeColourSteps(g: JudgeColourInput): Step[] {
  const verifyMs = progressDeadlineOf(g.app) * 1000;
  const { hint } = g;
  // The Deployments' progress deadline is the same timeout: give the controller's verdict (with
  // its reason) a moment to arrive before the watch's own deadline.
  const watchMs = verifyMs + 15_000;
  const workloads = verifyWorkloadsStep({
    app: g.app.name,
    client: g.client,
    objects: g.plan.kubernetes,
    applied: g.applied,
    dependsOn: g.dependsOn,
    timeoutMs: { Deployment: watchMs, DaemonSet: watchMs, Service: watchMs },
    hint,
  });
  const judged = { ...workloads, timeoutMs: Math.max(15 * 60_000, verifyMs + 5 * 60_000) };
  // Without a load balancer there are no targets to judge, and no HTTP check or hook unless the
  // spec asks for one (which then fails for want of a load balancer to reach).
  const { http, hook } = g.app.deploy.verify;
  if (!g.plan.aws.some((r) => r.kind === "target-group") && http.length === 0 && !hook) return [judged];
  const targets = verifyTargetsStep(
    g.plan,
    g.aws,
    [VERIFY_WORKLOADS, ...(g.targetsDependOn ?? [])],
    verifyMs,
  );
  return [
    judged,
    asVerification(targets, hint),
    verifyChecksStep(g.app, g.plan, g.aws, [VERIFY_TARGETS], { hookFile: g.verifyHookFile, hint }),
  ];
}

/** Failures while waiting (targets never healthy) are verification failures. */
function asVerification(step: Step, hint: string): Step {
  if (!step.wait) return step;
  const wait = step.wait.bind(step);
  return {
    ...step,
    async wait(ctx, applied) {
      try {
        return await wait(ctx, applied);
      } catch (err) {
        if (err instanceof KubecontrolError && err.code === "CANCELLED") throw err;
        const e = err instanceof KubecontrolError ? err : undefined;
        const message =
          e?.code === "VERIFY_FAILED" ? e.message : `verification failed: ${(err as Error).message}`;
        throw new KubecontrolError("VERIFY_FAILED", message, {
          cause: err,
          hint,
          ...(e?.details ? { details: e.details } : {}),
        });
      }
    },
  };
}

export { VERIFY_CHECKS, VERIFY_TARGETS, VERIFY_WORKLOADS };
