import { hasCode } from "../../../aws/errors.js";
import type { EksCluster } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import type { StackEnv } from "./stack-env.js";

/** Deletes the colour's EKS cluster and waits until it is gone. */
export function deleteClusterStep(r: EksCluster, env: StackEnv): Step {
  const { eks } = env.aws;
  return deletionStep({
    id: r.id,
    description: `EKS cluster ${r.name}`,
    env,
    find: () => eks.describeCluster(r.name),
    owner: { want: plannedOwner(r), tags: async (c) => c.tags },
    async remove(c) {
      if (c.status === "DELETING") return;
      try {
        await eks.deleteCluster(r.name);
      } catch (err) {
        if (!hasCode(err, "ResourceNotFoundException")) throw err;
      }
    },
    // A cluster still CREATING or UPDATING cannot be deleted yet.
    transient: (err) => hasCode(err, "ResourceInUseException"),
    waitGone: true,
    timeoutMs: 30 * 60_000,
  });
}
