import type { AwsOptions } from "../../../aws/client-config.js";
import { createAws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import { imageBuildRole } from "../../../images/image-build-role.js";
import { runSteps } from "../../runner.js";
import { ensureIamRoleStep, type RoleRef } from "../aws/ensure-iam-role.js";

/**
 * Ensures the app's image-build role (created, or its trust, policies and tags put right) as
 * the IAM role steps of a colour do, and returns its ARN for the CodeBuild project.
 */
export async function ensureImageBuildRole(
  app: string,
  owner: string,
  aws: AwsOptions,
  signal?: AbortSignal,
  sourceCredentials?: string,
): Promise<string> {
  const step = ensureIamRoleStep(imageBuildRole(app, owner, sourceCredentials), {
    aws: createAws(aws),
    runId: "image-build",
  });
  const report = await runSteps([step], signal ? { signal } : {});
  const ref = report.results.get(step.name) as RoleRef | undefined;
  if (report.ok && ref) return ref.arn;
  const error = report.steps[0]?.error;
  throw error instanceof KubecontrolError
    ? error
    : new KubecontrolError(
        "AWS",
        `could not ensure the image-build role of ${app}: ${error?.message ?? "cancelled"}`,
        {
          cause: error,
        },
      );
}
