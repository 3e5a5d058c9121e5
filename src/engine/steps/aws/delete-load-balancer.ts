import { hasCode } from "../../../aws/errors.js";
import type { LoadBalancer } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes the colour's load balancer (its listeners go with it) and waits until it is gone. */
export function deleteLoadBalancerStep(r: LoadBalancer, env: StackEnv): Step {
  const { elbv2 } = env.aws;
  return deletionStep({
    id: r.id,
    description: `load balancer ${r.name}`,
    env,
    find: () => elbv2.describeLoadBalancer(r.name),
    owner: {
      want: plannedOwner(r),
      tags: async (lb) =>
        tagRecord(
          (await elbv2.describeTags([lb.LoadBalancerArn!], `load balancer ${r.name}`)).get(
            lb.LoadBalancerArn!,
          ),
        ),
    },
    async remove(lb) {
      try {
        await elbv2.deleteLoadBalancer(lb.LoadBalancerArn!, `load balancer ${r.name}`);
      } catch (err) {
        if (!hasCode(err, "LoadBalancerNotFound", "LoadBalancerNotFoundException")) throw err;
      }
    },
    transient: (err) => hasCode(err, "ResourceInUse", "ResourceInUseException", "OperationNotPermitted"),
    waitGone: true,
  });
}
