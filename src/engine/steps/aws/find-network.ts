import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { awsStep, FIND_NETWORK } from "./stack-env.js";

/** The VPC and the role-tagged subnets a colour is placed in. */
export interface Network {
  vpcId: string;
  /** The VPC's associated IPv4 CIDR blocks (an internal load balancer admits its clients from them). */
  cidrBlocks: string[];
  publicSubnets: string[];
  privateSubnets: string[];
  /** Zones of the private subnets (where nodes run). */
  zones: string[];
}

function hasTag(tags: { Key?: string; Value?: string }[] | undefined, keyValue: string): boolean {
  const [key, value] = keyValue.split("=", 2);
  return (tags ?? []).some((t) => t.Key === key && t.Value === value);
}

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
  const publicSubnets = pick(network.publicSubnetTag);
  const privateSubnets = pick(network.privateSubnetTag);
  for (const [list, tag] of [
    [publicSubnets, network.publicSubnetTag],
    [privateSubnets, network.privateSubnetTag],
  ] as const) {
    if (list.length === 0)
      throw new KubecontrolError("PREFLIGHT_FAILED", `VPC ${vpcId} has no subnet tagged ${tag}`, {
        hint: `tag the subnets the app should use with ${tag}`,
      });
  }
  const associated = (vpcs[0]!.CidrBlockAssociationSet ?? [])
    .filter((a) => a.CidrBlockState?.State === "associated" && a.CidrBlock)
    .map((a) => a.CidrBlock!);
  return {
    vpcId,
    cidrBlocks: associated.length > 0 ? associated : [vpcs[0]!.CidrBlock!],
    publicSubnets: publicSubnets.map((s) => s.SubnetId!).sort(),
    privateSubnets: privateSubnets.map((s) => s.SubnetId!).sort(),
    zones: [...new Set(privateSubnets.map((s) => s.AvailabilityZone!))].sort(),
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
