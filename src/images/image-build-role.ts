import type { AwsOptions } from "../aws/client-config.js";
import { KubecontrolError } from "../errors.js";
import { TAG } from "../plan/aws.js";
import type { IamRole } from "../plan/aws-types.js";
import { resourceName } from "../plan/names.js";

/** The inline policy that lets builds read the app's source credentials. */
export const SOURCE_CREDENTIALS_POLICY = "source-credentials";

/**
 * What CodeBuild needs of the role to read a private repository through `arn`: the secret's
 * value, or the connection's token (CodeConnections, and its former name CodeStar Connections).
 */
export function sourceCredentialsPolicy(arn: string): string {
  const actions = /^arn:[^:]+:secretsmanager:/.test(arn)
    ? ["secretsmanager:GetSecretValue"]
    : [
        "codeconnections:GetConnection",
        "codeconnections:GetConnectionToken",
        "codeconnections:UseConnection",
        "codestar-connections:GetConnection",
        "codestar-connections:GetConnectionToken",
        "codestar-connections:UseConnection",
      ];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: actions, Resource: arn }],
  });
}

/**
 * The role an app's CodeBuild builds run as: `kc-<app>-image-build`, app-scoped (destroy removes
 * it). With source credentials it may read them, and only them; without, it holds no such policy.
 */
export function imageBuildRole(app: string, owner: string, sourceCredentials?: string): IamRole {
  return {
    kind: "iam-role",
    id: "iam-role/image-build",
    name: resourceName(app, ["image-build"], 64),
    scope: "app",
    tags: { [TAG.app]: app, [TAG.owner]: owner },
    dependsOn: [],
    properties: {
      service: "codebuild.amazonaws.com",
      purpose: "image-build",
      // Push to the app's repository, write the build's logs.
      managedPolicies: [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
        "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
      ],
      inlinePolicies: {
        [SOURCE_CREDENTIALS_POLICY]: sourceCredentials ? sourceCredentialsPolicy(sourceCredentials) : null,
      },
    },
  };
}

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
  const [{ createAws }, { ensureIamRoleStep }, { runSteps }] = await Promise.all([
    import("../aws/create-aws.js"),
    import("../engine/steps/aws/ensure-iam-role.js"),
    import("../engine/runner.js"),
  ]);
  const step = ensureIamRoleStep(imageBuildRole(app, owner, sourceCredentials), {
    aws: createAws(aws),
    runId: "image-build",
  });
  const report = await runSteps([step], signal ? { signal } : {});
  const ref = report.results.get(step.name) as { arn: string } | undefined;
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
