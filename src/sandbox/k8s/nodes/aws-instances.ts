import {
  type AutoScalingClient,
  type AutoScalingGroup,
  paginateDescribeAutoScalingGroups,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import type { NodeInstance } from "./node-object.js";
import { type KubeletRegistration, kubeletRegistrationFromUserData } from "./user-data.js";

/** An instance that should be a node of a cluster, with what its kubelet would register. */
export interface ClusterInstance extends NodeInstance {
  cluster: string;
  registration: KubeletRegistration;
}

const CLUSTER_TAG = /^kubernetes\.io\/cluster\/(.+)$/;
const GONE = new Set([
  "Terminating",
  "Terminating:Wait",
  "Terminating:Proceed",
  "Terminated",
  "Detaching",
  "Detached",
]);

/** The cluster a group's instances join: the one its `kubernetes.io/cluster/<name>` = owned tag names. */
export function clusterOfGroup(group: AutoScalingGroup): string | undefined {
  for (const tag of group.Tags ?? []) {
    const m = CLUSTER_TAG.exec(tag.Key ?? "");
    if (m && tag.Value === "owned") return m[1];
  }
  return undefined;
}

/**
 * Reads every tagged Auto Scaling Group's live instances from EC2, with the kubelet labels and
 * taints their launch template's user data gives. Launch template versions are cached by the
 * caller-provided map (a numbered version never changes).
 */
export async function listClusterInstances(
  autoscaling: AutoScalingClient,
  ec2: EC2Client,
  userDataCache: Map<string, string | undefined>,
): Promise<ClusterInstance[]> {
  const wanted: {
    cluster: string;
    instanceId: string;
    template?: { id?: string; name?: string; version?: string };
  }[] = [];
  for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling }, {})) {
    for (const group of page.AutoScalingGroups ?? []) {
      const cluster = clusterOfGroup(group);
      if (!cluster) continue;
      const groupTemplate =
        group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      for (const instance of group.Instances ?? []) {
        if (!instance.InstanceId || GONE.has(instance.LifecycleState ?? "")) continue;
        const t = instance.LaunchTemplate ?? groupTemplate;
        wanted.push({
          cluster,
          instanceId: instance.InstanceId,
          ...(t
            ? { template: { id: t.LaunchTemplateId, name: t.LaunchTemplateName, version: t.Version } }
            : {}),
        });
      }
    }
  }
  if (wanted.length === 0) return [];
  const described = new Map<string, NodeInstance>();
  for (let i = 0; i < wanted.length; i += 100) {
    const ids = wanted.slice(i, i + 100).map((w) => w.instanceId);
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    for (const r of out.Reservations ?? []) {
      for (const inst of r.Instances ?? []) {
        if (!inst.InstanceId || !inst.PrivateDnsName) continue;
        if (["terminated", "shutting-down", "stopped", "stopping"].includes(inst.State?.Name ?? "")) continue;
        described.set(inst.InstanceId, {
          instanceId: inst.InstanceId,
          privateDnsName: inst.PrivateDnsName,
          ...(inst.PrivateIpAddress ? { privateIp: inst.PrivateIpAddress } : {}),
          availabilityZone: inst.Placement?.AvailabilityZone ?? "",
          instanceType: inst.InstanceType ?? "",
          ...(inst.Architecture ? { architecture: inst.Architecture } : {}),
        });
      }
    }
  }
  const result: ClusterInstance[] = [];
  for (const w of wanted) {
    const instance = described.get(w.instanceId);
    if (!instance) continue;
    const userData = w.template ? await launchTemplateUserData(ec2, w.template, userDataCache) : undefined;
    result.push({ ...instance, cluster: w.cluster, registration: kubeletRegistrationFromUserData(userData) });
  }
  return result;
}

async function launchTemplateUserData(
  ec2: EC2Client,
  template: { id?: string; name?: string; version?: string },
  cache: Map<string, string | undefined>,
): Promise<string | undefined> {
  const version = template.version ?? "$Default";
  const key = `${template.id ?? template.name}@${version}`;
  // $Latest and $Default move; numbered versions are immutable and can be kept.
  if (/^\d+$/.test(version) && cache.has(key)) return cache.get(key);
  const out = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      ...(template.id ? { LaunchTemplateId: template.id } : { LaunchTemplateName: template.name }),
      Versions: [version],
    }),
  );
  const userData = out.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.UserData;
  cache.set(key, userData);
  return userData;
}

/** The cluster each live instance of a tagged Auto Scaling Group belongs to, by instance id. */
export async function instanceClusters(autoscaling: AutoScalingClient): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling }, {})) {
    for (const group of page.AutoScalingGroups ?? []) {
      const cluster = clusterOfGroup(group);
      if (!cluster) continue;
      for (const instance of group.Instances ?? []) {
        if (instance.InstanceId && !GONE.has(instance.LifecycleState ?? ""))
          result.set(instance.InstanceId, cluster);
      }
    }
  }
  return result;
}
