import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstancesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import type { CoreV1Api, V1Node } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";
import { coreApi, createEksCluster, type SdkCluster, waitFor } from "./helpers.js";

let sbx: TestSandbox;
let cluster: SdkCluster;
let api: CoreV1Api;
let asg: AutoScalingClient;
let ec2: EC2Client;
const group = uniqueName("kc-nodes-asg");
let templateId: string | undefined;

/** AL2023 user data: a nodeadm NodeConfig in a MIME multipart document, as EKS launch templates carry it. */
function nodeadmUserData(clusterName: string, labels = "kubecontrol.io/pool=web,team=payments"): string {
  return [
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="//"',
    "",
    "--//",
    "Content-Type: application/node.eks.aws",
    "",
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    `  cluster: { name: ${clusterName}, apiServerEndpoint: "https://example", certificateAuthority: "Y2E=", cidr: 10.100.0.0/16 }`,
    "  kubelet:",
    "    flags:",
    `      - --node-labels=${labels}`,
    "      - --register-with-taints=dedicated=web:NoSchedule",
    "",
    "--//--",
    "",
  ].join("\n");
}

async function nodes(): Promise<V1Node[]> {
  return (await api.listNode()).items;
}

async function groupInstances(): Promise<string[]> {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
  return (out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!);
}

beforeAll(async () => {
  sbx = await testSandbox();
  cluster = await createEksCluster(sbx, "kc-nodes");
  api = await coreApi(sbx, cluster.name, cluster.credentials);
  asg = new AutoScalingClient(sdkConfig(sbx));
  ec2 = new EC2Client(sdkConfig(sbx));
}, 90_000);

afterAll(async () => {
  await asg
    ?.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true }))
    .catch(() => {});
  if (templateId)
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId })).catch(() => {});
  await cluster?.destroy();
});

describe("nodes from Auto Scaling Groups", () => {
  it("registers each instance as EKS would name and label it, and follows the group's scaling", async () => {
    // given a launch template whose user data gives the kubelet labels and a taint
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: uniqueName("kc-nodes-lt"),
        LaunchTemplateData: {
          ImageId: "ami-12345678",
          InstanceType: "m5.large",
          UserData: Buffer.from(nodeadmUserData(cluster.name)).toString("base64"),
        },
      }),
    );
    templateId = template.LaunchTemplate!.LaunchTemplateId!;
    // when a group tagged for the cluster launches two instances
    const started = Date.now();
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 2,
        AvailabilityZones: [`${sbx.region}a`],
        LaunchTemplate: { LaunchTemplateId: templateId, Version: "$Latest" },
        Tags: [{ Key: `kubernetes.io/cluster/${cluster.name}`, Value: "owned", PropagateAtLaunch: true }],
      }),
    );
    // then both become Ready nodes within 5 s
    await waitFor("2 Ready nodes", 5_000, async () => (await nodes()).filter(isReady).length === 2);
    expect(Date.now() - started).toBeLessThan(5_000);
    const ids = await groupInstances();
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = described.Reservations!.flatMap((r) => r.Instances!);
    for (const node of await nodes()) {
      const instance = instances.find((i) => i.PrivateDnsName === node.metadata!.name)!;
      expect(instance).toBeDefined();
      const zone = instance.Placement!.AvailabilityZone!;
      expect(node.spec!.providerID).toBe(`aws:///${zone}/${instance.InstanceId}`);
      expect(node.metadata!.labels).toMatchObject({
        "kubernetes.io/hostname": instance.PrivateDnsName,
        "node.kubernetes.io/instance-type": "m5.large",
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": sbx.region,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubecontrol.io/pool": "web",
        team: "payments",
      });
      // The node lifecycle controller's own node.kubernetes.io/* taints come and go as on EKS.
      const registered = (node.spec!.taints ?? []).filter((t) => !t.key.startsWith("node.kubernetes.io/"));
      expect(registered).toEqual([{ key: "dedicated", value: "web", effect: "NoSchedule" }]);
    }

    // when the group scales out and in, the nodes follow
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 3 }));
    await waitFor("3 Ready nodes", 5_000, async () => (await nodes()).filter(isReady).length === 3);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 2 }));
    await waitFor("2 nodes", 5_000, async () => (await nodes()).length === 2);

    // when an instance is terminated, its node goes away
    const [victim] = await groupInstances();
    await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: victim,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    await waitFor("the terminated instance's node to go", 5_000, async () => {
      const left = await nodes();
      return left.length === 1 && !left.some((n) => n.spec?.providerID?.endsWith(`/${victim}`));
    });
  });
});

describe("a kubelet given a label it refuses", () => {
  const refusedGroup = uniqueName("kc-nodes-refused");
  let refusedTemplate: string | undefined;
  afterAll(async () => {
    await asg
      ?.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: refusedGroup, ForceDelete: true }))
      .catch(() => {});
    if (refusedTemplate)
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: refusedTemplate })).catch(() => {});
  });

  it("never registers its node, while the group counts the instance, as on AWS", async () => {
    // given user data asking for node-role.kubernetes.io/worker, which the kubelet refuses
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: uniqueName("kc-nodes-lt"),
        LaunchTemplateData: {
          ImageId: "ami-12345678",
          InstanceType: "m5.large",
          UserData: Buffer.from(
            nodeadmUserData(cluster.name, "kubecontrol.io/pool=refused,node-role.kubernetes.io/worker="),
          ).toString("base64"),
        },
      }),
    );
    refusedTemplate = template.LaunchTemplate!.LaunchTemplateId!;
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: refusedGroup,
        MinSize: 0,
        MaxSize: 2,
        DesiredCapacity: 1,
        AvailabilityZones: [`${sbx.region}a`],
        LaunchTemplate: { LaunchTemplateId: refusedTemplate, Version: "$Latest" },
        Tags: [{ Key: `kubernetes.io/cluster/${cluster.name}`, Value: "owned", PropagateAtLaunch: true }],
      }),
    );
    const out = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [refusedGroup] }),
    );
    const [instance] = (out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!);
    expect(instance).toBeDefined();
    // then, several sync passes later, no node carries the instance
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await nodes()).filter((n) => n.spec?.providerID?.endsWith(`/${instance}`))).toEqual([]);
  });
});

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
