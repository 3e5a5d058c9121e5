import type { AutoScalingGroup as AwsGroup, Tag } from "@aws-sdk/client-auto-scaling";
import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import type { AutoScalingGroup } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import {
  ensureName,
  FIND_NETWORK,
  networkOf,
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

interface Changes {
  update: boolean;
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
function differs(r: AutoScalingGroup, g: Partial<AwsGroup>, d: Desired): boolean {
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
): Step<EnsureNeeded<Partial<AwsGroup>, Changes>, { name: string }> {
  const { autoscaling } = env.aws;
  const p = r.properties;
  const what = `auto scaling group ${r.name}`;
  return ensureStep<Partial<AwsGroup>, Changes, { name: string }>({
    r,
    env,
    description: `auto scaling group ${r.name} (${p.instanceTypes.join(", ")})`,
    dependsOn: [FIND_NETWORK, ...r.dependsOn.map(ensureName)],
    timeoutMs: 600_000,
    find: async () => (await autoscaling.describeGroups([r.name]))[0],
    tagsOf: (g) => tagRecord(g.Tags),
    leaving: (g) => g.Status === "Delete in progress",
    diff(ctx, g) {
      const d = desired(r, ctx);
      // A new group is made with all of it.
      if (!g) return { update: false, attach: [], detach: [] };
      const attached = new Set(g.TargetGroupARNs ?? []);
      return {
        update: differs(r, g, d),
        attach: d.targetGroups.filter((t) => !attached.has(t)),
        detach: [...attached].filter((t) => !d.targetGroups.includes(t)),
      };
    },
    async create(ctx, tags) {
      const d = desired(r, ctx);
      await autoscaling.createGroup({
        AutoScalingGroupName: r.name,
        MinSize: p.min,
        MaxSize: p.max,
        DesiredCapacity: p.desired,
        VPCZoneIdentifier: d.subnets,
        MixedInstancesPolicy: policy(r, d),
        CapacityRebalance: p.capacityRebalance,
        TargetGroupARNs: d.targetGroups,
        Tags: asgTags(r.name, tags),
      });
      return { AutoScalingGroupName: r.name };
    },
    alreadyExists: ["AlreadyExists", "AlreadyExistsFault"],
    // An instance profile made seconds ago is not yet usable in a launch template: IAM is
    // eventually consistent, and Auto Scaling says so as a validation error.
    notYet: (err) => hasCode(err, "ValidationError") && /instance ?profile/i.test(awsErrorMessage(err)),
    tag: (_ctx, _g, tags) => autoscaling.putTags(asgTags(r.name, tags), what),
    async change(ctx, _g, c) {
      const busy = (fn: () => Promise<void>) => retryEventual(ctx, what, fn, scalingBusy);
      if (c.update) {
        const d = desired(r, ctx);
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
      }
      if (c.attach.length) await busy(() => autoscaling.attachTargetGroups(r.name, c.attach));
      if (c.detach.length) await busy(() => autoscaling.detachTargetGroups(r.name, c.detach));
    },
    ref: () => ({ name: r.name }),
    inPlace: (g) => `${g.Instances?.length ?? 0} instances`,
  });
}
