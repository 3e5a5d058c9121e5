import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  type _InstanceType,
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import { KubeClient, type KubeResource } from "../../src/kube/client.js";
import { type ClusterAccess, clusterAccess } from "../../src/kube/cluster-access.js";
import { sdkConfig, type TestSandbox, testAccessKeyId, uniqueName } from "./sandbox.js";

/** A node pool as the plan's launch template gives it to the kubelet. */
export interface TestPool {
  name: string;
  nodes: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  instanceType?: string;
}

/** An EKS cluster in the sandbox with KWOK nodes, reached the way kubecontrol reaches EKS. */
export interface TestCluster {
  name: string;
  access: ClusterAccess;
  client: KubeClient;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Deletes the node groups, launch templates and the cluster. */
  destroy(): Promise<void>;
}

/**
 * Creates an EKS cluster (the caller becomes its admin through an access entry), waits for its
 * control plane, and adds one Auto Scaling Group per pool whose instances become nodes.
 */
export async function createTestCluster(
  sbx: TestSandbox,
  pools: TestPool[],
  options: { name?: string } = {},
): Promise<TestCluster> {
  const accessKeyId = testAccessKeyId();
  const config = sdkConfig(sbx, accessKeyId);
  const credentials = { accessKeyId, secretAccessKey: "sandbox" };
  const eks = new EKSClient(config);
  const ec2 = new EC2Client(config);
  const asg = new AutoScalingClient(config);
  const name = options.name ?? uniqueName("kc-kube");
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: "arn:aws:iam::123456789012:role/kc-test-eks",
      version: "1.34",
      resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    }),
  );
  const groups: string[] = [];
  const templates: string[] = [];
  const destroy = async () => {
    for (const g of groups)
      await asg
        .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: g, ForceDelete: true }))
        .catch(() => {});
    for (const t of templates)
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: t })).catch(() => {});
    await eks.send(new DeleteClusterCommand({ name })).catch(() => {});
  };
  try {
    await until(`cluster ${name} to publish its endpoint`, 120_000, async () => {
      const c = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      return Boolean(c?.endpoint && c.certificateAuthority?.data);
    });
    const access = await clusterAccess({
      clusterName: name,
      region: sbx.region,
      credentials,
      awsEndpoint: sbx.endpoint,
    });
    const client = new KubeClient(access.kubeConfig);
    const found = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: "tag:kubernetes.io/role/internal-elb", Values: ["1"] }],
      }),
    );
    const subnets = (found.Subnets ?? []).map((s) => s.SubnetId!).join(",");
    for (const pool of pools) {
      const template = await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: uniqueName(`${name}-${pool.name}`),
          LaunchTemplateData: {
            ImageId: "ami-12345678",
            InstanceType: (pool.instanceType ?? "m5.large") as _InstanceType,
            UserData: Buffer.from(bootstrapUserData(name, pool)).toString("base64"),
          },
        }),
      );
      templates.push(template.LaunchTemplate!.LaunchTemplateId!);
      const group = uniqueName(`${name}-${pool.name}`);
      groups.push(group);
      await asg.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: group,
          MinSize: 0,
          MaxSize: 20,
          DesiredCapacity: pool.nodes,
          VPCZoneIdentifier: subnets,
          LaunchTemplate: {
            LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!,
            Version: "$Latest",
          },
          Tags: [{ Key: `kubernetes.io/cluster/${name}`, Value: "owned", PropagateAtLaunch: true }],
        }),
      );
    }
    const wanted = pools.reduce((n, p) => n + p.nodes, 0);
    await until(`${wanted} nodes of ${name} to be Ready`, 120_000, async () => {
      const nodes = await client
        .request<{ items: KubeResource[] }>("GET", "/api/v1/nodes")
        .catch(() => ({ items: [] }));
      return nodes.items.filter(isReady).length >= wanted;
    });
    return {
      name,
      access,
      client,
      credentials,
      destroy: async () => {
        client.close();
        await destroy();
      },
    };
  } catch (err) {
    await destroy();
    throw err;
  } finally {
    eks.destroy();
  }
}

/** AL2 bootstrap.sh user data whose kubelet flags carry the pool's labels and taints. */
function bootstrapUserData(cluster: string, pool: TestPool): string {
  const labels = Object.entries({ ...pool.labels, "kubecontrol.io/pool": pool.name })
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const taints = (pool.taints ?? [])
    .map((t) => `${t.key}${t.value === undefined ? "" : `=${t.value}`}:${t.effect}`)
    .join(",");
  const flags = [`--node-labels=${labels}`, ...(taints ? [`--register-with-taints=${taints}`] : [])].join(
    " ",
  );
  return `#!/bin/bash\n/etc/eks/bootstrap.sh ${cluster} --kubelet-extra-args '${flags}'\n`;
}

function isReady(node: KubeResource): boolean {
  const conditions =
    (node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** Polls a condition (test setup only: the cluster and its nodes have no watch to offer yet). */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
