import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import { CLUSTER_ADMIN_POLICY } from "../../plan/aws.js";
import type { AccessEntry } from "../../plan/aws-types.js";
import type { Plan } from "../../plan/plan.js";

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/.+$/;

/**
 * The IAM principal an access entry names for a caller. An assumed role's session
 * (`arn:aws:sts::1:assumed-role/R/s`) is its role, whose ARN carries the role's path, which the
 * session's ARN does not show (an IAM Identity Center role is
 * `role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_…`; EKS refuses the ARN without
 * it), so the role is read from IAM. Any other STS-form ARN is the same path under iam.
 */
export async function deployerPrincipal(aws: Aws, callerArn: string): Promise<string> {
  const m = ASSUMED_ROLE.exec(callerArn);
  if (!m) return callerArn.replace(/^arn:([^:]+):sts::/, "arn:$1:iam::");
  const role = await aws.iam.getRole(m[3]!);
  if (!role?.Arn)
    throw new KubecontrolError(
      "PRECONDITION",
      `the role of this session (${callerArn}) is not in IAM: no role named ${m[3]}`,
      { hint: "run kubecontrol with credentials of a role or user of the app's account" },
    );
  return role.Arn;
}

/**
 * The access entry that lets whoever runs the deployment apply the app's objects. The plan is
 * pure and cannot know the caller, and the cluster grants its creator nothing by itself
 * (bootstrapClusterCreatorAdminPermissions is off), so the engine adds it. Undefined when the
 * spec already lists the caller as an admin.
 */
export function deployerAccessEntry(plan: Plan, arn: string): AccessEntry | undefined {
  const entries = plan.aws.filter((r): r is AccessEntry => r.kind === "eks-access-entry");
  if (entries.some((e) => "arn" in e.properties.principal && e.properties.principal.arn === arn))
    return undefined;
  const template = plan.aws.find((r) => r.kind === "eks-cluster")!;
  return {
    kind: "eks-access-entry",
    id: "eks-access-entry/deployer",
    name: arn,
    scope: "colour",
    tags: template.tags,
    dependsOn: [template.id],
    properties: {
      cluster: template.id,
      principal: { arn },
      type: "STANDARD",
      policies: [{ policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: "cluster" } }],
    },
  };
}
