import { hasCode } from "../../../aws/errors.js";
import type { SecurityGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep, plannedOwner } from "./deletion-step.js";
import { findSecurityGroup } from "./ensure-security-group.js";
import { actualRules } from "./ensure-security-group-rules.js";
import { deleteGroupOnceReleased, heldGroupTimeoutMs } from "./group-interfaces.js";
import { deleteName, networkOf, type StackEnv, tagRecord } from "./stack-env.js";

/** The step that revokes a group's rules that name other groups. */
export function revokeRulesStepName(groupId: string): string {
  return deleteName(groupId).replace("delete-security-group/", "delete-security-group-rules/");
}

/**
 * Revokes a group's ingress rules that name other groups: a group another one refers to
 * cannot be deleted, and the colour's groups refer to each other.
 */
export function revokeSecurityGroupRulesStep(r: SecurityGroup, env: StackEnv): Step {
  const { aws } = env;
  const what = `ingress of ${r.name}`;
  const referencing = async (vpcId: string) => {
    const group = await findSecurityGroup(aws, vpcId, r.name);
    if (!group) return undefined;
    const rules = actualRules(group.IpPermissions).filter((x) => x.permission.UserIdGroupPairs?.length);
    return rules.length ? { id: group.GroupId!, rules, tags: tagRecord(group.Tags) } : undefined;
  };
  const step = deletionStep({
    id: r.id,
    description: `rules of ${r.name} that name other groups`,
    env,
    find: (ctx) => referencing(networkOf(ctx).vpcId),
    owner: { want: plannedOwner(r), tags: async (found) => found.tags },
    async remove(found) {
      for (const rule of found.rules) {
        try {
          await aws.ec2.revokeIngress(found.id, [rule.permission], what);
        } catch (err) {
          if (!hasCode(err, "InvalidPermission.NotFound")) throw err;
        }
      }
    },
  });
  return { ...step, name: revokeRulesStepName(r.id) };
}

/**
 * Deletes a colour's security group once nothing uses it: network interfaces linger after their
 * owners (a load balancer's are waited out; those the colour's VPC CNI leaked are deleted).
 */
export function deleteSecurityGroupStep(r: SecurityGroup, env: StackEnv): Step {
  const { aws } = env;
  const what = `security group ${r.name}`;
  return deletionStep({
    id: r.id,
    description: what,
    env,
    timeoutMs: heldGroupTimeoutMs(env),
    find: (ctx) => findSecurityGroup(aws, networkOf(ctx).vpcId, r.name),
    owner: { want: plannedOwner(r), tags: async (group) => tagRecord(group.Tags) },
    remove: (group, ctx) =>
      deleteGroupOnceReleased(aws, { groupId: group.GroupId!, what, cluster: env.plan.cluster, env }, ctx),
  });
}
