import { hasCode } from "../../../aws/errors.js";
import type { LaunchTemplate } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes a pool's launch template with all its versions. */
export function deleteLaunchTemplateStep(r: LaunchTemplate, env: StackEnv): Step {
  const { ec2 } = env.aws;
  const what = `launch template ${r.name}`;
  return deletionStep({
    id: r.id,
    description: what,
    env,
    find: async () =>
      (await ec2.describeLaunchTemplates([{ Name: "launch-template-name", Values: [r.name] }], what))[0],
    owner: { want: plannedOwner(r), tags: async (lt) => tagRecord(lt.Tags) },
    async remove(lt) {
      try {
        await ec2.deleteLaunchTemplate(lt.LaunchTemplateId!, what);
      } catch (err) {
        if (!hasCode(err, "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException"))
          throw err;
      }
    },
  });
}
