import type { Aws } from "../../../aws/create-aws.js";
import type { SecurityGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  FIND_NETWORK,
  networkOf,
  ownedFind,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What later steps need of a security group. */
export interface SecurityGroupRef {
  id: string;
  name: string;
}

/** The group of this name in the VPC, if any. */
export async function findSecurityGroup(aws: Aws, vpcId: string, name: string) {
  const groups = await aws.ec2.describeSecurityGroups(
    [
      { Name: "vpc-id", Values: [vpcId] },
      { Name: "group-name", Values: [name] },
    ],
    `security group ${name}`,
  );
  return groups[0];
}

/**
 * Ensures a security group exists with its tags. Its ingress rules are a step of their own
 * (ensure-security-group-rules), because groups refer to each other (nodes ↔ cluster).
 */
export function ensureSecurityGroupStep(
  r: SecurityGroup,
  env: StackEnv,
): Step<{ tags?: Record<string, string>; id?: string }, SecurityGroupRef> {
  const { aws } = env;
  return awsStep<{ tags?: Record<string, string>; id?: string }, SecurityGroupRef>({
    name: ensureName(r.id),
    description: `security group ${r.name}`,
    dependsOn: [FIND_NETWORK],
    timeoutMs: 300_000,
    async check(ctx) {
      const net = networkOf(ctx);
      const group = await findSecurityGroup(aws, net.vpcId, r.name);
      if (!group) return { satisfied: false, reason: "missing", needed: {} };
      const tags = claimTags(r, tagRecord(group.Tags), env);
      const value = { id: group.GroupId!, name: r.name };
      if (Object.keys(tags).length === 0) return { satisfied: true, reason: group.GroupId!, value };
      return { satisfied: false, reason: "tags differ", needed: { tags, id: group.GroupId! } };
    },
    async apply(ctx, n) {
      if (n?.id) {
        await aws.ec2.createTags(n.id, tagList(n.tags!), `security group ${r.name}`);
        return { id: n.id, name: r.name };
      }
      const net = networkOf(ctx);
      const id = await createOrAdopt(
        () =>
          aws.ec2.createSecurityGroup({
            GroupName: r.name,
            Description:
              `kubecontrol ${r.properties.purpose} of ${r.tags["kubecontrol:app"]} ${r.tags["kubecontrol:colour"] ?? ""}`.trim(),
            VpcId: net.vpcId,
            TagSpecifications: [
              { ResourceType: "security-group", Tags: tagList(creationTags(r.tags, env.runId)) },
            ],
          }),
        async () =>
          (
            await ownedFind(
              () => findSecurityGroup(aws, net.vpcId, r.name),
              (g) => tagRecord(g.Tags),
              r,
              env,
            )()
          )?.GroupId,
        ["InvalidGroup.Duplicate"],
      );
      return { id, name: r.name };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.id ?? r.name}`,
  });
}
