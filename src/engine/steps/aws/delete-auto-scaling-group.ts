import { hasCode } from "../../../aws/errors.js";
import type { AutoScalingGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes a pool's Auto Scaling Group with its instances and waits until it is gone. */
export function deleteAutoScalingGroupStep(r: AutoScalingGroup, env: StackEnv): Step {
  const { autoscaling } = env.aws;
  return deletionStep({
    id: r.id,
    description: `auto scaling group ${r.name}`,
    env,
    find: async () => (await autoscaling.describeGroups([r.name]))[0],
    owner: { want: plannedOwner(r), tags: async (g) => tagRecord(g.Tags) },
    async remove(g) {
      if (g.Status === "Delete in progress") return;
      try {
        await autoscaling.deleteGroup(r.name);
      } catch (err) {
        if (!hasCode(err, "ValidationError") || !/not found/i.test((err as Error).message)) throw err;
      }
    },
    transient: (err) => hasCode(err, "ScalingActivityInProgress", "ResourceInUse", "ResourceContention"),
    waitGone: true,
  });
}
