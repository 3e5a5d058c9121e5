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
