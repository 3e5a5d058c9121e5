import type { IpPermission } from "@aws-sdk/client-ec2";
import { hasCode } from "../../../aws/errors.js";
import type { IngressRule, SecurityGroup } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import { findSecurityGroup } from "./ensure-security-group.js";
import type { Network } from "./find-network.js";
import { awsStep, ensureName, networkOf, resultOf, type StackEnv } from "./stack-env.js";

/** The step that ensures a group's ingress rules. */
export function rulesStepName(groupId: string): string {
  return ensureName(groupId).replace("ensure-security-group/", "ensure-security-group-rules/");
}

interface RuleKeyed {
  key: string;
  permission: IpPermission;
}

function ruleKey(protocol: string, from: number | undefined, to: number | undefined, source: string): string {
  // All-traffic rules have no ports (AWS may answer -1 or nothing): compare them without.
  return protocol === "-1" ? `-1|${source}` : `${protocol}|${from}|${to}|${source}`;
}

/** The desired rules of a group, with groups resolved to ids and the VPC to its CIDR blocks. */
function desiredRules(r: SecurityGroup, ctx: StepContext, selfId: string, net: Network): RuleKeyed[] {
  return r.properties.ingress.flatMap((rule: IngressRule): RuleKeyed[] => {
    const base: IpPermission = { IpProtocol: rule.protocol };
    if (rule.protocol !== "-1") Object.assign(base, { FromPort: rule.fromPort, ToPort: rule.toPort });
    const source = rule.source;
    if ("cidr" in source || "vpc" in source) {
      return ("cidr" in source ? [source.cidr] : net.cidrBlocks).map((cidr) => ({
        key: ruleKey(rule.protocol, rule.fromPort, rule.toPort, cidr),
        permission: { ...base, IpRanges: [{ CidrIp: cidr, Description: rule.description }] },
      }));
    }
    const groupId = "self" in source ? selfId : resultOf(ctx, source.group).id;
    return [
      {
        key: ruleKey(rule.protocol, rule.fromPort, rule.toPort, groupId),
        permission: { ...base, UserIdGroupPairs: [{ GroupId: groupId, Description: rule.description }] },
      },
    ];
  });
}

/** The rules a group has, one entry per source. */
export function actualRules(permissions: IpPermission[] | undefined): RuleKeyed[] {
  const out: RuleKeyed[] = [];
  for (const p of permissions ?? []) {
    const base: IpPermission = { IpProtocol: p.IpProtocol };
    if (p.IpProtocol !== "-1") Object.assign(base, { FromPort: p.FromPort, ToPort: p.ToPort });
    for (const range of p.IpRanges ?? [])
      out.push({
        key: ruleKey(p.IpProtocol!, p.FromPort, p.ToPort, range.CidrIp!),
        permission: { ...base, IpRanges: [{ CidrIp: range.CidrIp }] },
      });
    for (const pair of p.UserIdGroupPairs ?? [])
      out.push({
        key: ruleKey(p.IpProtocol!, p.FromPort, p.ToPort, pair.GroupId!),
        permission: { ...base, UserIdGroupPairs: [{ GroupId: pair.GroupId }] },
      });
  }
  return out;
}

interface Needed {
  groupId: string;
  add: IpPermission[];
  remove: IpPermission[];
}

/** Ensures a group's ingress rules are exactly the plan's (its own group: extra rules are revoked). */
export function ensureSecurityGroupRulesStep(r: SecurityGroup, env: StackEnv): Step<Needed, void> {
  const { aws } = env;
  const what = `ingress of ${r.name}`;
  const others = r.properties.ingress.flatMap((x) => ("group" in x.source ? [x.source.group] : []));
  return awsStep<Needed, void>({
    name: rulesStepName(r.id),
    description: `ingress rules of ${r.name}`,
    dependsOn: [...new Set([ensureName(r.id), ...others.map(ensureName)])],
    timeoutMs: 300_000,
    async check(ctx) {
      const self = resultOf(ctx, r.id);
      const net = networkOf(ctx);
      const group = await findSecurityGroup(aws, net.vpcId, r.name);
      const actual = actualRules(group?.IpPermissions);
      const desired = desiredRules(r, ctx, self.id, net);
      const have = new Set(actual.map((a) => a.key));
      const want = new Set(desired.map((d) => d.key));
      const add = desired.filter((d) => !have.has(d.key)).map((d) => d.permission);
      const remove = actual.filter((a) => !want.has(a.key)).map((a) => a.permission);
      if (add.length === 0 && remove.length === 0)
        return { satisfied: true, reason: `${desired.length} rules in place` };
      return {
        satisfied: false,
        reason: `${add.length} to add, ${remove.length} to revoke`,
        needed: { groupId: self.id, add, remove },
      };
    },
    async apply(_ctx, n) {
      // One call per rule: a duplicate (already added by a retried call) must not hide the others.
      for (const permission of n.add) {
        try {
          await aws.ec2.authorizeIngress(n.groupId, [permission], what);
        } catch (err) {
          if (!hasCode(err, "InvalidPermission.Duplicate")) throw err;
        }
      }
      for (const permission of n.remove) {
        try {
          await aws.ec2.revokeIngress(n.groupId, [permission], what);
        } catch (err) {
          if (!hasCode(err, "InvalidPermission.NotFound")) throw err;
        }
      }
    },
  });
}
