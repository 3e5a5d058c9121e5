import { CLUSTER_ADMIN_POLICY } from "../../plan/aws.js";
import type { AccessEntry } from "../../plan/aws-types.js";
import type { Plan } from "../../plan/plan.js";

/**
 * The IAM principal an access entry names for a caller: an assumed role's session
 * (`arn:aws:sts::1:assumed-role/R/s`) is its role; any other STS-form ARN (moto answers
 * GetCallerIdentity with `arn:aws:sts::1:user/u`) is the same path under iam.
 */
export function principalOf(callerArn: string): string {
  const m = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (m) return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
  return callerArn.replace(/^arn:([^:]+):sts::/, "arn:$1:iam::");
}

/**
 * The access entry that lets whoever runs the deployment apply the app's objects. The plan is
 * pure and cannot know the caller, and the cluster grants its creator nothing by itself
 * (bootstrapClusterCreatorAdminPermissions is off), so the engine adds it. Undefined when the
 * spec already lists the caller as an admin.
 */
export function deployerAccessEntry(plan: Plan, callerArn: string): AccessEntry | undefined {
  const arn = principalOf(callerArn);
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
