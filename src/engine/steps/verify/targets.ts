import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { Plan } from "../../../plan/plan.js";
import { convergeStep } from "../../converge.js";
import type { Step } from "../../step.js";

/** The step that waits for every target group of the colour to report all its targets healthy. */
export const VERIFY_TARGETS = "verify-targets";

async function unhealthy(aws: Aws, names: string[]): Promise<string[]> {
  return (await aws.elbv2.targetGroupsHealth(names)).flatMap((g) =>
    g.missing
      ? [`${g.name}: missing`]
      : g.total === 0 || g.healthy < g.total
        ? [`${g.name}: ${g.healthy}/${g.total} healthy`]
        : [],
  );
}

/**
 * Verification through the load balancer's eyes: every registered target of every target group
 * healthy (DescribeTargetHealth). A timeout is VERIFY_FAILED, so DNS is never moved onto it.
 */
export function verifyTargetsStep(plan: Plan, aws: Aws, dependsOn: string[], timeoutMs = 5 * 60_000): Step {
  const names = plan.aws.filter((r) => r.kind === "target-group").map((r) => r.name);
  return convergeStep({
    name: VERIFY_TARGETS,
    description: `targets of ${names.join(", ")} healthy`,
    dependsOn,
    what: `healthy targets in ${names.join(", ")}`,
    timeoutMs,
    pollMs: 500,
    maxPollMs: 5_000,
    async look() {
      const bad = await unhealthy(aws, names);
      return bad.length === 0 ? { done: true, value: undefined } : { done: false, state: bad.join("; ") };
    },
    waiting: (state) => `healthy targets (${state})`,
    async failed(err) {
      if (err instanceof KubecontrolError && err.code === "CANCELLED") throw err;
      throw new KubecontrolError(
        "VERIFY_FAILED",
        `target groups never became healthy: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    },
    summarize: () => "every target healthy",
  });
}
