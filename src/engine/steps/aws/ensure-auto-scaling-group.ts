import type { AutoScalingGroup as AwsGroup, Tag } from "@aws-sdk/client-auto-scaling";
import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import type { AutoScalingGroup } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  FIND_NETWORK,
  networkOf,
  ownedFind,
  resultOf,
  retryEventual,
  type StackEnv,
  tagRecord,
} from "./stack-env.js";

interface Desired {
  subnets: string;
  launchTemplateId: string;
  targetGroups: string[];
}

interface Needed {
  exists: boolean;
  update: boolean;
  tags: Record<string, string>;
  attach: string[];
  detach: string[];
}

function asgTags(name: string, tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({
    Key,
    Value,
    ResourceId: name,
    ResourceType: "auto-scaling-group",
    PropagateAtLaunch: true,
  }));
}

function desired(r: AutoScalingGroup, ctx: StepContext): Desired {
  return {
    subnets: networkOf(ctx).privateSubnets.join(","),
    launchTemplateId: resultOf(ctx, r.properties.launchTemplate).id,
    targetGroups: r.properties.targetGroups.map((t) => resultOf(ctx, t).arn).sort(),
  };
}

function policy(r: AutoScalingGroup, d: Desired) {
  const p = r.properties;
  return {
    LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId: d.launchTemplateId, Version: "$Default" },
      Overrides: p.instanceTypes.map((InstanceType) => ({ InstanceType })),
    },
    InstancesDistribution: {
      OnDemandBaseCapacity: p.onDemandBase,
      OnDemandPercentageAboveBaseCapacity: p.onDemandPercentAboveBase,
      SpotAllocationStrategy: p.allocation,
    },
  };
}

/** True when the group's sizes and policy differ from the plan (desired capacity is never compared). */
function differs(r: AutoScalingGroup, g: AwsGroup, d: Desired): boolean {
  const p = r.properties;
  const mip = g.MixedInstancesPolicy;
  const dist = mip?.InstancesDistribution;
  const types = (mip?.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType);
  const subnets = (g.VPCZoneIdentifier ?? "").split(",").filter(Boolean).sort().join(",");
  return (
    g.MinSize !== p.min ||
    g.MaxSize !== p.max ||
    g.CapacityRebalance !== p.capacityRebalance ||
    subnets !== d.subnets.split(",").sort().join(",") ||
    mip?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId !== d.launchTemplateId ||
    JSON.stringify(types) !== JSON.stringify(p.instanceTypes) ||
    dist?.OnDemandBaseCapacity !== p.onDemandBase ||
    dist?.OnDemandPercentageAboveBaseCapacity !== p.onDemandPercentAboveBase ||
    dist?.SpotAllocationStrategy !== p.allocation
  );
}

const scalingBusy = (err: unknown) => hasCode(err, "ScalingActivityInProgress", "ResourceContention");

/** Ensures a pool's Auto Scaling Group; its desired capacity is set at creation only. */
export function ensureAutoScalingGroupStep(
  r: AutoScalingGroup,
  env: StackEnv,
): Step<Needed, { name: string }> {
  const { autoscaling } = env.aws;
  const p = r.properties;
  const what = `auto scaling group ${r.name}`;
  const find = async () => (await autoscaling.describeGroups([r.name]))[0];
  return awsStep<Needed, { name: string }>({
    name: ensureName(r.id),
    description: `auto scaling group ${r.name} (${p.instanceTypes.join(", ")})`,
    dependsOn: [FIND_NETWORK, ...r.dependsOn.map(ensureName)],
    timeoutMs: 600_000,
    async check(ctx) {
      const d = desired(r, ctx);
      const g = await find();
      if (!g || g.Status === "Delete in progress")
        return {
          satisfied: false,
          reason: g ? "being deleted" : "missing",
          needed: { exists: false, update: false, tags: {}, attach: [], detach: [] },
        };
      const attached = new Set(g.TargetGroupARNs ?? []);
      const needed: Needed = {
        exists: true,
        update: differs(r, g, d),
        tags: claimTags(r, tagRecord(g.Tags), env),
        attach: d.targetGroups.filter((t) => !attached.has(t)),
        detach: [...attached].filter((t) => !d.targetGroups.includes(t)),
      };
      if (
        !needed.update &&
        !Object.keys(needed.tags).length &&
        !needed.attach.length &&
        !needed.detach.length
      )
        return { satisfied: true, reason: `${g.Instances?.length ?? 0} instances`, value: { name: r.name } };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(ctx, n) {
      const d = desired(r, ctx);
      if (!n.exists) {
        const create = () =>
          createOrAdopt<unknown>(
            () =>
              autoscaling.createGroup({
                AutoScalingGroupName: r.name,
                MinSize: p.min,
                MaxSize: p.max,
                DesiredCapacity: p.desired,
                VPCZoneIdentifier: d.subnets,
                MixedInstancesPolicy: policy(r, d),
                CapacityRebalance: p.capacityRebalance,
                TargetGroupARNs: d.targetGroups,
                Tags: asgTags(r.name, creationTags(r.tags, env.runId)),
              }),
            ownedFind(find, (g) => tagRecord(g.Tags), r, env),
            ["AlreadyExists", "AlreadyExistsFault"],
          );
        // An instance profile made seconds ago is not yet usable in a launch template: IAM is
        // eventually consistent, and Auto Scaling says so as a validation error.
        await retryEventual(
          ctx,
          `create ${what}`,
          create,
          (err) => hasCode(err, "ValidationError") && /instance ?profile/i.test(awsErrorMessage(err)),
        );
        return { name: r.name };
      }
      const busy = (fn: () => Promise<void>) => retryEventual(ctx, what, fn, scalingBusy);
      if (n.update)
        await busy(() =>
          autoscaling.updateGroup({
            AutoScalingGroupName: r.name,
            MinSize: p.min,
            MaxSize: p.max,
            VPCZoneIdentifier: d.subnets,
            MixedInstancesPolicy: policy(r, d),
            CapacityRebalance: p.capacityRebalance,
          }),
        );
      if (Object.keys(n.tags).length) await autoscaling.putTags(asgTags(r.name, n.tags), what);
      if (n.attach.length) await busy(() => autoscaling.attachTargetGroups(r.name, n.attach));
      if (n.detach.length) await busy(() => autoscaling.detachTargetGroups(r.name, n.detach));
      return { name: r.name };
    },
  });
}
