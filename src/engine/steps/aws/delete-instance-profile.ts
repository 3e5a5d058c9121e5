import { hasCode } from "../../../aws/errors.js";
import type { InstanceProfile } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes the app-scoped node instance profile (only with destroy), emptying it first. */
export function deleteInstanceProfileStep(r: InstanceProfile, env: StackEnv): Step {
  const { iam } = env.aws;
  return deletionStep({
    id: r.id,
    description: `instance profile ${r.name}`,
    env,
    find: () => iam.getInstanceProfile(r.name),
    owner: { want: plannedOwner(r), tags: async (profile) => tagRecord(profile.Tags) },
    async remove(profile) {
      for (const role of profile.Roles ?? []) {
        try {
          await iam.removeRoleFromInstanceProfile(r.name, role.RoleName!);
        } catch (err) {
          if (hasCode(err, "NoSuchEntity", "NoSuchEntityException")) continue;
          // A retry after a lost answer finds the role already removed, and some services then
          // answer with an error the SDK cannot even parse: look before failing.
          const now = await iam.getInstanceProfile(r.name);
          if (now && (now.Roles ?? []).some((x) => x.RoleName === role.RoleName)) throw err;
        }
      }
      try {
        await iam.deleteInstanceProfile(r.name);
      } catch (err) {
        if (!hasCode(err, "NoSuchEntity", "NoSuchEntityException")) throw err;
      }
    },
    transient: (err) => hasCode(err, "DeleteConflict", "DeleteConflictException"),
  });
}
