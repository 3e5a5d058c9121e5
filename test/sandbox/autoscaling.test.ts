import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

let sbx: TestSandbox;
let asg: AutoScalingClient;
let ec2: EC2Client;
let subnets: { id: string; zone: string }[];
let templateId: string;
const groups: string[] = [];
const OVERRIDES = ["m6i.large", "m5.large", "m5a.large"];

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  const config = sdkConfig(sbx);
  asg = new AutoScalingClient(config);
  ec2 = new EC2Client(config);
  const found = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "tag:kubernetes.io/role/internal-elb", Values: ["1"] }] }),
  );
  subnets = (found.Subnets ?? []).map((s) => ({ id: s.SubnetId!, zone: s.AvailabilityZone! }));
  // A node launch template names no instance type: the group's overrides do.
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: uniqueName("nodes"),
      LaunchTemplateData: { ImageId: "ami-12345678" },
    }),
  );
  templateId = template.LaunchTemplate!.LaunchTemplateId!;
});

afterAll(async () => {
  for (const name of groups)
    await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
});

async function createMixedGroup(
  desired: number,
  onDemandBase: number,
  percentAboveBase: number,
): Promise<string> {
  const name = uniqueName("kc-test-web");
  groups.push(name);
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: desired,
      VPCZoneIdentifier: subnets.map((s) => s.id).join(","),
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: "$Latest" },
          Overrides: OVERRIDES.map((InstanceType) => ({ InstanceType })),
        },
        InstancesDistribution: {
          OnDemandBaseCapacity: onDemandBase,
          OnDemandPercentageAboveBaseCapacity: percentAboveBase,
          SpotAllocationStrategy: "price-capacity-optimized",
        },
      },
      Tags: [{ Key: "kubernetes.io/cluster/kc-test", Value: "owned", PropagateAtLaunch: true }],
    }),
  );
  return name;
}

async function describeGroup(name: string) {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups![0]!;
}

async function instancesOf(name: string) {
  const group = await describeGroup(name);
  const ids = (group.Instances ?? []).map((i) => i.InstanceId!);
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

describe("Auto Scaling mixed instances policy", () => {
  it("launches exactly DesiredCapacity instances of the overrides' types, spot above the on-demand share", async () => {
    // given on-demand base 1 and 25% on-demand above it, when desired is 5
    const name = await createMixedGroup(5, 1, 25);
    const instances = await instancesOf(name);
    // then 5 instances: 1 base + 1 (25% of 4) on-demand, 3 spot, all typed from the overrides
    expect(instances).toHaveLength(5);
    for (const i of instances) expect(OVERRIDES).toContain(i.InstanceType);
    expect(instances.filter((i) => i.InstanceLifecycle === "spot")).toHaveLength(3);
    // on-demand allocation is prioritized: the first override
    expect(instances.filter((i) => i.InstanceLifecycle !== "spot").map((i) => i.InstanceType)).toEqual([
      "m6i.large",
      "m6i.large",
    ]);
  });

  it("rounds the on-demand share up, as AWS does (desired 3 gives 2 on-demand, 1 spot)", async () => {
    const name = await createMixedGroup(3, 1, 25);
    const instances = await instancesOf(name);
    expect(instances).toHaveLength(3);
    expect(instances.filter((i) => i.InstanceLifecycle === "spot")).toHaveLength(1);
  });

  it("spreads instances over the subnets' zones and names them as EC2 does", async () => {
    const name = await createMixedGroup(3, 0, 0);
    const instances = await instancesOf(name);
    expect(new Set(instances.map((i) => i.Placement?.AvailabilityZone))).toEqual(
      new Set(subnets.map((s) => s.zone)),
    );
    for (const i of instances) {
      expect(i.PrivateDnsName).toBe(`ip-${i.PrivateIpAddress!.replaceAll(".", "-")}.ec2.internal`);
      expect(i.Tags).toContainEqual({ Key: "kubernetes.io/cluster/kc-test", Value: "owned" });
    }
  });

  it("keeps the MixedInstancesPolicy through an update that does not name it, and follows new capacity", async () => {
    const name = await createMixedGroup(2, 1, 50);
    await asg.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, DesiredCapacity: 4, MaxSize: 8 }),
    );
    const group = await describeGroup(name);
    expect(group.MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity).toBe(1);
    expect(group.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType)).toEqual(
      OVERRIDES,
    );
    const instances = await instancesOf(name);
    expect(instances).toHaveLength(4);
    // 1 base + ceil(50% of 3) = 3 on-demand, 1 spot
    expect(instances.filter((i) => i.InstanceLifecycle === "spot")).toHaveLength(1);

    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, DesiredCapacity: 1 }));
    const after = await instancesOf(name);
    const running = after.filter((i) => i.State?.Name === "running");
    expect(running).toHaveLength(1);
    expect(running[0]!.InstanceLifecycle).toBeUndefined();
  });
});
