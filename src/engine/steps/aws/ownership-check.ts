import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { AwsResource } from "../../../plan/aws-types.js";
import { ownershipOf } from "../../../plan/ownership.js";
import type { Plan } from "../../../plan/plan.js";
import { plannedOwner } from "./deletion-step.js";
import { findSecurityGroup } from "./ensure-security-group.js";
import { findNetwork } from "./find-network.js";
import { tagRecord } from "./stack-env.js";

/** A planned resource that exists under its name and is not the app's. */
export interface NotOwned {
  kind: string;
  name: string;
  /** The app (and colour) its tags name; undefined when it has no kubecontrol tags. */
  owner: string | undefined;
}

/**
 * The tags of the resource a plan names, when one exists by that name (read-only). Listeners,
 * access entries and weighted records are their load balancer's, cluster's and set
 * identifier's, so they are not looked up on their own.
 */
async function tagsByName(aws: Aws, r: AwsResource, vpcId: string | undefined) {
  switch (r.kind) {
    case "iam-role": {
      const role = await aws.iam.getRole(r.name);
      return role && tagRecord(role.Tags);
    }
    case "iam-instance-profile": {
      const profile = await aws.iam.getInstanceProfile(r.name);
      return profile && tagRecord(profile.Tags);
    }
    case "ecr-repository": {
      const repo = await aws.ecr.describeRepository(r.name);
      return repo && tagRecord(await aws.ecr.listTags(repo.repositoryArn!, `repository ${r.name}`));
    }
    case "security-group": {
      const group = vpcId ? await findSecurityGroup(aws, vpcId, r.name) : undefined;
      return group && tagRecord(group.Tags);
    }
    case "eks-cluster": {
      const cluster = await aws.eks.describeCluster(r.name);
      return cluster && (cluster.tags ?? {});
    }
    case "launch-template": {
      const what = `launch template ${r.name}`;
      const lt = (
        await aws.ec2.describeLaunchTemplates([{ Name: "launch-template-name", Values: [r.name] }], what)
      )[0];
      return lt && tagRecord(lt.Tags);
    }
    case "auto-scaling-group": {
      const group = (await aws.autoscaling.describeGroups([r.name]))[0];
      return group && tagRecord(group.Tags);
    }
    case "load-balancer": {
      const arn = (await aws.elbv2.describeLoadBalancer(r.name))?.LoadBalancerArn;
      return arn && tagRecord((await aws.elbv2.describeTags([arn], `load balancer ${r.name}`)).get(arn));
    }
    case "target-group": {
      const arn = (await aws.elbv2.describeTargetGroup(r.name))?.TargetGroupArn;
      return arn && tagRecord((await aws.elbv2.describeTags([arn], `target group ${r.name}`)).get(arn));
    }
    default:
      return undefined;
  }
}

/**
 * Every resource of `resources` that exists by its planned name and whose tags do not say it is
 * the planned owner's: another app's or colour's, or, unless the run adopts them, resources
 * without kubecontrol's tags. Read-only; runs before anything is changed, so a run that would
 * meet one stops before it makes anything (each step checks again as it acts).
 */
export async function findNotOwned(
  aws: Aws,
  resources: readonly AwsResource[],
  o: { vpcId: string | undefined; adopt: boolean },
): Promise<NotOwned[]> {
  const found = await Promise.all(
    resources.map(async (r): Promise<NotOwned | undefined> => {
      const tags = await tagsByName(aws, r, o.vpcId);
      if (!tags) return undefined;
      const verdict = ownershipOf(tags, plannedOwner(r));
      if (verdict.state === "ours" || (verdict.state === "untagged" && o.adopt)) return undefined;
      const owner =
        verdict.state === "foreign"
          ? `${verdict.app}${verdict.colour ? ` (${verdict.colour})` : ""}`
          : undefined;
      return { kind: r.kind, name: r.name, owner };
    }),
  );
  return found.filter((x): x is NotOwned => x !== undefined);
}

/** NOT_OWNED (exit 6) naming each resource in the way and whose it is, or nothing when there are none. */
export function notOwnedError(plan: Plan, found: NotOwned[], action: string): KubecontrolError | undefined {
  if (found.length === 0) return undefined;
  const lines = found.map(
    (f) =>
      `${f.kind} ${f.name}: ${f.owner ? `belongs to ${f.owner} by its kubecontrol tags` : "has no kubecontrol tags"}`,
  );
  const untagged = found.some((f) => !f.owner);
  return new KubecontrolError(
    "NOT_OWNED",
    `${plan.app} (${plan.colour}): ${found.length} resource(s) with its names are not its own, so it will not ${action} them; nothing was changed:\n  ${lines.join("\n  ")}`,
    {
      hint: `kubecontrol never acts on another app's resources: rename the app, or remove the others' resources with their own teardown or destroy${untagged ? "; a resource without kubecontrol tags that is meant to be this app's is taken over with --adopt (recorded in its tags and in history)" : ""}`,
      details: { resources: found },
    },
  );
}

/**
 * Stops a run before it changes anything when any of `resources` exists by its planned name and
 * is not the app's (NOT_OWNED, exit 6, naming each and its owner). `action` is what the run
 * would do with them: make or change (create, update), or delete (teardown, destroy).
 */
export async function assertPlanOwned(
  aws: Aws,
  plan: Plan,
  resources: readonly AwsResource[],
  o: { adopt: boolean; action: "adopt or change" | "delete"; vpcId?: string | undefined },
): Promise<void> {
  const vpcId = o.vpcId ?? (await findNetwork(aws, plan.network).catch(() => undefined))?.vpcId;
  const error = notOwnedError(
    plan,
    await findNotOwned(aws, resources, { vpcId, adopt: o.adopt && o.action !== "delete" }),
    o.action,
  );
  if (error) throw error;
}
