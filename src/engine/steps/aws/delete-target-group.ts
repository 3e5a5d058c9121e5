import { hasCode } from "../../../aws/errors.js";
import type { TargetGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes a service's target group once no listener or group uses it. */
export function deleteTargetGroupStep(r: TargetGroup, env: StackEnv): Step {
  const { elbv2 } = env.aws;
  return deletionStep({
    id: r.id,
    description: `target group ${r.name}`,
    env,
    find: () => elbv2.describeTargetGroup(r.name),
    owner: {
      want: plannedOwner(r),
      tags: async (tg) =>
        tagRecord(
          (await elbv2.describeTags([tg.TargetGroupArn!], `target group ${r.name}`)).get(tg.TargetGroupArn!),
        ),
    },
    async remove(tg) {
      try {
        await elbv2.deleteTargetGroup(tg.TargetGroupArn!, `target group ${r.name}`);
      } catch (err) {
        if (!hasCode(err, "TargetGroupNotFound", "TargetGroupNotFoundException")) throw err;
      }
    },
    // A listener deleted a moment ago may still hold it.
    transient: (err) => hasCode(err, "ResourceInUse", "ResourceInUseException"),
  });
}
