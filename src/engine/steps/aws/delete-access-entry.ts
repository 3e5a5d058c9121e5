import { hasCode } from "../../../aws/errors.js";
import type { AccessEntry } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import type { StackEnv } from "./stack-env.js";

/** Deletes an access entry of the colour's cluster (gone with the cluster anyway; explicit for partial teardowns). */
export function deleteAccessEntryStep(r: AccessEntry, env: StackEnv): Step {
  const { aws } = env;
  const cluster = env.plan.aws.find((x) => x.id === r.properties.cluster)!.name;
  const principal = r.properties.principal;
  const principalArn = async () => {
    if ("arn" in principal) return principal.arn;
    const roleName = env.plan.aws.find((x) => x.id === principal.role)!.name;
    return (await aws.iam.getRole(roleName))?.Arn;
  };
  return deletionStep({
    id: r.id,
    description: `access entry ${r.name} of ${cluster}`,
    env,
    async find() {
      if (!(await aws.eks.describeCluster(cluster))) return undefined;
      const arn = await principalArn();
      return arn && (await aws.eks.describeAccessEntry(cluster, arn)) ? arn : undefined;
    },
    // An access entry is its cluster's: the cluster's tags say whose.
    owner: { want: plannedOwner(r), tags: async () => (await aws.eks.describeCluster(cluster))?.tags },
    async remove(arn) {
      try {
        await aws.eks.deleteAccessEntry(cluster, arn);
      } catch (err) {
        if (!hasCode(err, "ResourceNotFoundException")) throw err;
      }
    },
  });
}
