import type { SecurityGroup as AwsGroup } from "@aws-sdk/client-ec2";
import type { Aws } from "../../../aws/create-aws.js";
import type { SecurityGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { FIND_NETWORK, networkOf, type StackEnv, tagList, tagRecord } from "./stack-env.js";

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
): Step<EnsureNeeded<AwsGroup, object>, SecurityGroupRef> {
  const { aws } = env;
  const what = `security group ${r.name}`;
  return ensureStep<AwsGroup, object, SecurityGroupRef>({
    r,
    env,
    description: what,
    dependsOn: [FIND_NETWORK],
    timeoutMs: 300_000,
    find: (ctx) => findSecurityGroup(aws, networkOf(ctx).vpcId, r.name),
    tagsOf: (group) => tagRecord(group.Tags),
    diff: () => ({}),
    create: async (ctx, tags) => ({
      GroupId: await aws.ec2.createSecurityGroup({
        GroupName: r.name,
        Description:
          `kubecontrol ${r.properties.purpose} of ${r.tags["kubecontrol:app"]} ${r.tags["kubecontrol:colour"] ?? ""}`.trim(),
        VpcId: networkOf(ctx).vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: tagList(tags) }],
      }),
    }),
    alreadyExists: ["InvalidGroup.Duplicate"],
    tag: (_ctx, group, tags) => aws.ec2.createTags(group.GroupId!, tagList(tags), what),
    change: async () => {},
    ref: (group) => ({ id: group.GroupId!, name: r.name }),
    inPlace: (group) => group.GroupId!,
    summary: (ref) => ref.id,
  });
}
