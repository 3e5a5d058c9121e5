import { hasCode } from "../../../aws/errors.js";
import type { EcrRepository } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { type StackEnv, tagRecord } from "./stack-env.js";

/** Deletes the app's ECR repository and its images (only with destroy). */
export function deleteEcrRepositoryStep(r: EcrRepository, env: StackEnv): Step {
  const { ecr } = env.aws;
  return deletionStep({
    id: r.id,
    description: `ECR repository ${r.name}`,
    env,
    find: () => ecr.describeRepository(r.name),
    // Its images may be another app's: a repository is deleted only when its tags say it is this app's.
    owner: {
      want: plannedOwner(r),
      tags: async (repo) => tagRecord(await ecr.listTags(repo.repositoryArn!, `repository ${r.name}`)),
    },
    async remove() {
      try {
        await ecr.deleteRepository(r.name);
      } catch (err) {
        if (!hasCode(err, "RepositoryNotFoundException")) throw err;
      }
    },
  });
}
