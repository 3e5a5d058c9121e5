import type { Instance } from "@aws-sdk/client-ec2";
import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import type { AutoScalingGroup } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";

/** The Service Quotas a deployment can reach, by what they count. */
export const QUOTAS = {
  alb: { service: "elasticloadbalancing", code: "L-53DA6B97", name: "Application Load Balancers per Region" },
  nlb: { service: "elasticloadbalancing", code: "L-69A177A2", name: "Network Load Balancers per Region" },
  clusters: { service: "eks", code: "L-1194D53C", name: "EKS clusters" },
  onDemandVcpus: {
    service: "ec2",
    code: "L-1216C47A",
    name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)",
  },
  spotVcpus: {
    service: "ec2",
    code: "L-34B43A08",
    name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests (vCPUs)",
  },
} as const;

export type QuotaKey = keyof typeof QUOTAS;
export type Counts = Record<QuotaKey, number>;

/** One quota weighed: its limit, what is in use, and what the deployment would add. */
export interface QuotaUse {
  key: QuotaKey;
  limit: number;
  inUse: number;
  needed: number;
}

/** What exists in the region, as the quotas count it. */
export interface RegionUsage {
  clusters: string[];
  loadBalancers: { name: string; type: string }[];
  /** Pending and running instances. */
  instances: { type: string; spot: boolean; group: string | undefined }[];
}

const NON_STANDARD = ["inf", "trn", "hpc", "dl", "mac", "vt", "u-", "f", "g", "p", "x"];

/** True when the type counts against the standard (A, C, D, H, I, M, R, T, Z) vCPU quotas. */
export function isStandardType(type: string): boolean {
  const family = type.split(".")[0]!.toLowerCase();
  return /^[acdhimrtz]/.test(family) && !NON_STANDARD.some((p) => family.startsWith(p));
}

/** On-demand and spot instances of a pool at its desired capacity (on-demand base first, its share rounded up). */
export function poolSplit(p: AutoScalingGroup["properties"]): { onDemand: number; spot: number } {
  const desired = Math.max(p.min, p.desired);
  if (desired <= p.onDemandBase) return { onDemand: desired, spot: 0 };
  const above = desired - p.onDemandBase;
  const onDemandAbove = Math.ceil((above * p.onDemandPercentAboveBase) / 100);
  return { onDemand: p.onDemandBase + onDemandAbove, spot: above - onDemandAbove };
}

/** What is in use now, per quota. */
export function usage(u: RegionUsage, vcpus: Map<string, number>): Counts {
  const standard = u.instances.filter((i) => isStandardType(i.type));
  const sum = (list: typeof standard) => list.reduce((n, i) => n + (vcpus.get(i.type) ?? 0), 0);
  return {
    alb: u.loadBalancers.filter((lb) => lb.type === "application").length,
    nlb: u.loadBalancers.filter((lb) => lb.type === "network").length,
    clusters: u.clusters.length,
    onDemandVcpus: sum(standard.filter((i) => !i.spot)),
    spotVcpus: sum(standard.filter((i) => i.spot)),
  };
}

/**
 * What the plan adds on top of what exists: a cluster or load balancer of its name that stands
 * needs nothing; a pool needs the vCPUs of its desired capacity less those its group already
 * runs. On-demand instances take the pool's first type (prioritized); spot ones may take any,
 * so the largest is counted. Types outside the standard families count against other quotas
 * and are not counted here.
 */
export function needs(plan: Plan, u: RegionUsage, vcpus: Map<string, number>): Counts {
  const out: Counts = { alb: 0, nlb: 0, clusters: 0, onDemandVcpus: 0, spotVcpus: 0 };
  for (const r of plan.aws) {
    if (r.kind === "eks-cluster" && !u.clusters.includes(r.name)) out.clusters++;
    if (r.kind === "load-balancer" && !u.loadBalancers.some((lb) => lb.name === r.name))
      out[r.properties.type === "network" ? "nlb" : "alb"]++;
    if (r.kind !== "auto-scaling-group") continue;
    const { onDemand, spot } = poolSplit(r.properties);
    const types = r.properties.instanceTypes;
    const onDemandType = types[0]!;
    const spotVcpus = Math.max(0, ...types.filter(isStandardType).map((t) => vcpus.get(t) ?? 0));
    const running = u.instances.filter((i) => i.group === r.name && isStandardType(i.type));
    const has = (spotInstances: boolean) =>
      running.filter((i) => i.spot === spotInstances).reduce((n, i) => n + (vcpus.get(i.type) ?? 0), 0);
    if (isStandardType(onDemandType))
      out.onDemandVcpus += Math.max(0, onDemand * (vcpus.get(onDemandType) ?? 0) - has(false));
    out.spotVcpus += Math.max(0, spot * spotVcpus - has(true));
  }
  return out;
}

/** The quotas the deployment would pass: it needs something and in use plus needed exceeds the limit. */
export function exceeded(uses: QuotaUse[]): QuotaUse[] {
  return uses.filter((u) => u.needed > 0 && u.inUse + u.needed > u.limit);
}

/** "Application Load Balancers per Region (elasticloadbalancing L-53DA6B97): limit 50, in use 50, needed 1". */
export function describeUse(u: QuotaUse): string {
  const q = QUOTAS[u.key];
  return `${q.name} (${q.service} ${q.code}): limit ${u.limit}, in use ${u.inUse}, this deployment needs ${u.needed} more`;
}

/** How to raise a quota the deployment would pass. */
export function increaseHint(u: QuotaUse): string {
  const q = QUOTAS[u.key];
  return `request an increase of ${q.service} quota ${q.code} to at least ${u.inUse + u.needed} in Service Quotas (aws service-quotas request-service-quota-increase --service-code ${q.service} --quota-code ${q.code} --desired-value ${u.inUse + u.needed}), or free capacity in the region`;
}

/** What preflight learned of the quotas. */
export interface QuotaCheck {
  uses: QuotaUse[];
  /** Quotas that could not be read (no permission): not checked, said so. */
  notes: string[];
}

/**
 * Reads what the region has (clusters, load balancers, live instances and their vCPUs) and the
 * quotas the plan needs more of; read-only. A quota the caller may not read is skipped with a
 * note: Service Quotas permissions are often missing where deploying is allowed.
 */
export async function checkQuotas(plan: Plan, aws: Aws): Promise<QuotaCheck> {
  const [clusters, lbs, instances] = await Promise.all([
    aws.eks.listClusters(),
    aws.elbv2.listLoadBalancers(),
    aws.ec2.liveInstances(),
  ]);
  const region: RegionUsage = {
    clusters,
    loadBalancers: lbs.map((lb) => ({ name: lb.LoadBalancerName!, type: lb.Type ?? "application" })),
    instances: instances.map((i: Instance) => ({
      type: i.InstanceType!,
      spot: i.InstanceLifecycle === "spot",
      group: i.Tags?.find((t) => t.Key === "aws:autoscaling:groupName")?.Value,
    })),
  };
  const planned = plan.aws.flatMap((r) =>
    r.kind === "auto-scaling-group" ? r.properties.instanceTypes : [],
  );
  const types = [...new Set([...planned, ...region.instances.map((i) => i.type)])];
  const vcpus = types.length ? await aws.ec2.vcpus(types) : new Map<string, number>();
  const inUse = usage(region, vcpus);
  const needed = needs(plan, region, vcpus);
  const uses: QuotaUse[] = [];
  const notes: string[] = [];
  for (const key of Object.keys(QUOTAS) as QuotaKey[]) {
    if (needed[key] === 0) continue;
    const q = QUOTAS[key];
    try {
      const quota = await aws.quotas.quota(q.service, q.code);
      uses.push({ key, limit: quota.value, inUse: inUse[key], needed: needed[key] });
    } catch (err) {
      if (!hasCode(err, "AccessDeniedException", "AccessDenied")) throw err;
      notes.push(
        `quota ${q.service} ${q.code} (${q.name}) not checked: the caller may not read Service Quotas (servicequotas:GetServiceQuota, servicequotas:GetAWSDefaultServiceQuota); in use ${inUse[key]}, this deployment needs ${needed[key]} more`,
      );
    }
  }
  return { uses, notes };
}
