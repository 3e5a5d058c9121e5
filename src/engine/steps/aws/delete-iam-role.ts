import { hasCode } from "../../../aws/errors.js";
import type { IamRole } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes an app-scoped IAM role (only with destroy), detaching its managed policies first. */
export function deleteIamRoleStep(r: IamRole, env: StackEnv): Step {
  const { iam } = env.aws;
  return deletionStep({
    id: r.id,
    description: `IAM role ${r.name}`,
    env,
    find: () => iam.getRole(r.name),
    owner: { want: plannedOwner(r), tags: async (role) => tagRecord(role.Tags) },
    async remove() {
      for (const policy of await iam.attachedPolicies(r.name)) {
        try {
          await iam.detachPolicy(r.name, policy);
        } catch (err) {
          // A retried detach whose first answer was lost finds nothing attached.
          if (!hasCode(err, "NoSuchEntity", "NoSuchEntityException")) throw err;
        }
      }
      try {
        await iam.deleteRole(r.name);
      } catch (err) {
        if (!hasCode(err, "NoSuchEntity", "NoSuchEntityException")) throw err;
      }
    },
    transient: (err) => hasCode(err, "DeleteConflict", "DeleteConflictException"),
  });
}
