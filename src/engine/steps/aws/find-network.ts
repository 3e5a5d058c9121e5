import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { awsStep, FIND_NETWORK } from "./stack-env.js";

/** The VPC and the role-tagged subnets a colour is placed in: one subnet per zone of each role. */
export interface Network {
  vpcId: string;
  /** The VPC's associated IPv4 CIDR blocks (an internal load balancer admits its clients from them). */
  cidrBlocks: string[];
  publicSubnets: string[];
  privateSubnets: string[];
  /** Zones of the private subnets (where nodes run). */
  zones: string[];
  /** The subnets the EKS cluster is given: both roles', once each, none in a zone EKS does not serve. */
  clusterSubnets: string[];
  /** What AWS would refuse of these subnets (fewer than two zones, zones EKS does not serve), for preflight. */
  problems: { message: string; hint: string }[];
}

/**
 * Zones (by zone id, the same in every account) where EKS places no control plane:
 * CreateCluster answers UnsupportedAvailabilityZoneException for a subnet there.
 */
export const EKS_UNSUPPORTED_ZONE_IDS = new Set(["use1-az3", "usw1-az2", "cac1-az3"]);

function hasTag(tags: { Key?: string; Value?: string }[] | undefined, keyValue: string): boolean {
  const [key, value] = keyValue.split("=", 2);
  return (tags ?? []).some((t) => t.Key === key && t.Value === value);
}

type Subnet = Awaited<ReturnType<Aws["ec2"]["describeSubnets"]>>[number];

/**
 * One subnet per zone (a load balancer takes at most one per zone): the one with the most free
 * addresses, then the lowest id, so the choice is stable while the VPC is.
 */
function onePerZone(subnets: Subnet[]): Subnet[] {
  const byZone = new Map<string, Subnet>();
  for (const s of [...subnets].sort(
    (a, b) =>
      (b.AvailableIpAddressCount ?? 0) - (a.AvailableIpAddressCount ?? 0) ||
      (a.SubnetId ?? "").localeCompare(b.SubnetId ?? ""),
  ))
    if (!byZone.has(s.AvailabilityZone!)) byZone.set(s.AvailabilityZone!, s);
  return [...byZone.values()].sort((a, b) => a.AvailabilityZone!.localeCompare(b.AvailabilityZone!));
}

const listed = (subnets: Subnet[]) =>
  subnets
    .map(
      (s) =>
        `${s.SubnetId} (${s.AvailabilityZone}${s.AvailabilityZoneId ? `, ${s.AvailabilityZoneId}` : ""})`,
    )
    .join(", ");

/** Finds the VPC and subnets the plan names (read-only; they are the account's, never ours). */
export async function findNetwork(aws: Aws, network: Plan["network"]): Promise<Network> {
  const vpc = network.vpc;
  const vpcs =
    "id" in vpc
      ? await aws.ec2.describeVpcs([], [vpc.id])
      : await aws.ec2.describeVpcs([
          { Name: `tag:${vpc.tag.split("=")[0]}`, Values: [vpc.tag.split("=").slice(1).join("=")] },
        ]);
  const what = "id" in vpc ? `id ${vpc.id}` : `tag ${vpc.tag}`;
  if (vpcs.length !== 1)
    throw new KubecontrolError("PREFLIGHT_FAILED", `expected one VPC with ${what}, found ${vpcs.length}`, {
      hint: "fix network.vpc in the spec, or tag the VPC the app should use",
    });
  const vpcId = vpcs[0]!.VpcId!;
  const subnets = await aws.ec2.describeSubnets(vpcId);
  const pick = (tag: string) => subnets.filter((s) => hasTag(s.Tags, tag));
  const tagged = { public: pick(network.publicSubnetTag), private: pick(network.privateSubnetTag) };
  for (const [list, tag] of [
    [tagged.public, network.publicSubnetTag],
    [tagged.private, network.privateSubnetTag],
  ] as const) {
    if (list.length === 0)
      throw new KubecontrolError("PREFLIGHT_FAILED", `VPC ${vpcId} has no subnet tagged ${tag}`, {
        hint: `tag the subnets the app should use with ${tag}`,
      });
  }
  const publicSubnets = onePerZone(tagged.public);
  const privateSubnets = onePerZone(tagged.private);
  const problems: Network["problems"] = [];
  for (const [role, list, tag] of [
    ["public", publicSubnets, network.publicSubnetTag],
    ["private", privateSubnets, network.privateSubnetTag],
  ] as const)
    if (list.length < 2)
      problems.push({
        message: `VPC ${vpcId} has ${role} subnets (${tag}) in one Availability Zone only: ${listed(list)}; load balancers and EKS need subnets in at least two`,
        hint: `tag a subnet in another zone with ${tag}`,
      });
  // a subnet tagged for both roles is given to the cluster once
  const both = new Map([...privateSubnets, ...publicSubnets].map((s) => [s.SubnetId!, s]));
  const unserved = [...both.values()].filter((s) => EKS_UNSUPPORTED_ZONE_IDS.has(s.AvailabilityZoneId ?? ""));
  const cluster = [...both.values()].filter((s) => !unserved.includes(s));
  if (unserved.length > 0 && new Set(cluster.map((s) => s.AvailabilityZone)).size < 2)
    problems.push({
      message: `EKS places no control plane in ${listed(unserved)}, and the other subnets are in fewer than two zones`,
      hint: "tag subnets in two zones EKS serves (aws eks: UnsupportedAvailabilityZoneException lists them)",
    });
  const associated = (vpcs[0]!.CidrBlockAssociationSet ?? [])
    .filter((a) => a.CidrBlockState?.State === "associated" && a.CidrBlock)
    .map((a) => a.CidrBlock!);
  return {
    vpcId,
    cidrBlocks: associated.length > 0 ? associated : [vpcs[0]!.CidrBlock!],
    publicSubnets: publicSubnets.map((s) => s.SubnetId!),
    privateSubnets: privateSubnets.map((s) => s.SubnetId!),
    zones: privateSubnets.map((s) => s.AvailabilityZone!),
    clusterSubnets: cluster.map((s) => s.SubnetId!),
    problems,
  };
}

/** The step that finds the network; its result is what the other steps place resources in. */
export function findNetworkStep(aws: Aws, plan: Plan): Step<never, Network> {
  return awsStep({
    name: FIND_NETWORK,
    description: "find the VPC and subnets",
    timeoutMs: 120_000,
    async check() {
      const value = await findNetwork(aws, plan.network);
      return { satisfied: true, reason: `VPC ${value.vpcId}`, value };
    },
  });
}
