import { hasCode } from "../../../aws/errors.js";
import type { Listener } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes a listener (so that its target group can go before the load balancer does). */
export function deleteListenerStep(r: Listener, env: StackEnv): Step {
  const { elbv2 } = env.aws;
  const lbName = env.plan.aws.find((x) => x.id === r.properties.loadBalancer)!.name;
  const what = `listener ${r.name}`;
  return deletionStep({
    id: r.id,
    description: what,
    env,
    async find() {
      const lb = await elbv2.describeLoadBalancer(lbName);
      if (!lb) return undefined;
      return (await elbv2.listListeners(lb.LoadBalancerArn!, what)).find((l) => l.Port === r.properties.port);
    },
    // A listener is its load balancer's: the load balancer's tags say whose.
    owner: {
      want: plannedOwner(r),
      tags: async (l) =>
        tagRecord((await elbv2.describeTags([l.LoadBalancerArn!], what)).get(l.LoadBalancerArn!)),
    },
    async remove(l) {
      try {
        await elbv2.deleteListener(l.ListenerArn!, what);
      } catch (err) {
        if (!hasCode(err, "ListenerNotFound", "ListenerNotFoundException")) throw err;
      }
    },
  });
}
