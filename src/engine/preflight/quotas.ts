import type { Instance } from "@aws-sdk/client-ec2";
import type { Aws } from "../../aws/create-aws.js";
import { hasCode } from "../../aws/errors.js";
import type { AutoScalingGroup } from "../../plan/aws-types.js";
import type { Plan } from "../../plan/plan.js";

/**
 * EC2's vCPU quotas, by class of instance family: each class has a quota for running on-demand
 * instances and one for spot requests, counted in vCPUs.
 */
export const VCPU_CLASSES = {
  standard: { families: "Standard (A, C, D, H, I, M, R, T, Z)", onDemand: "L-1216C47A", spot: "L-34B43A08" },
  gvt: { families: "G and VT", onDemand: "L-DB2E81BA", spot: "L-3819A6DF" },
  p: { families: "P", onDemand: "L-417A185B", spot: "L-7212CCBC" },
  inf: { families: "Inf", onDemand: "L-1945791B", spot: "L-B5D1601B" },
  trn: { families: "Trn", onDemand: "L-2C3B7624", spot: "L-6B0D517C" },
} as const;
export type VcpuClass = keyof typeof VCPU_CLASSES;
type Market = "onDemand" | "spot";

// Families that start with a standard letter but are not standard: their own quotas.
const NOT_STANDARD = ["inf", "trn", "hpc", "dl", "mac", "vt", "u-", "f", "g", "p", "x"];

/** The vCPU quota class of an instance type; undefined for families not checked (DL, F, HPC, X, high memory, Mac). */
export function vcpuClass(type: string): VcpuClass | undefined {
  const family = type.split(".")[0]!.toLowerCase();
  if (family.startsWith("inf")) return "inf";
  if (family.startsWith("trn")) return "trn";
  if (family.startsWith("vt") || family.startsWith("g")) return "gvt";
  if (family.startsWith("p")) return "p";
  if (/^[acdhimrtz]/.test(family) && !NOT_STANDARD.some((x) => family.startsWith(x))) return "standard";
  return undefined;
}

/** True when the type counts against the standard (A, C, D, H, I, M, R, T, Z) vCPU quotas. */
export function isStandardType(type: string): boolean {
  return vcpuClass(type) === "standard";
}

/** The key of a vCPU quota: `onDemandVcpus` and `spotVcpus` for the standard class, `<class>OnDemandVcpus` etc. for others. */
function vcpuKey(cls: VcpuClass, market: Market): VcpuKey {
  const m = market === "onDemand" ? "OnDemandVcpus" : "SpotVcpus";
  return (cls === "standard" ? `${market}Vcpus` : `${cls}${m}`) as VcpuKey;
}
type VcpuKey =
  | "onDemandVcpus"
  | "spotVcpus"
  | `${Exclude<VcpuClass, "standard">}${"OnDemandVcpus" | "SpotVcpus"}`;

const vcpuQuotas = Object.fromEntries(
  (Object.keys(VCPU_CLASSES) as VcpuClass[]).flatMap((cls) => {
    const c = VCPU_CLASSES[cls];
    return [
      [
        vcpuKey(cls, "onDemand"),
        { service: "ec2", code: c.onDemand, name: `Running On-Demand ${c.families} instances (vCPUs)` },
      ],
      [
        vcpuKey(cls, "spot"),
        { service: "ec2", code: c.spot, name: `All ${c.families} Spot Instance Requests (vCPUs)` },
      ],
    ];
  }),
) as Record<VcpuKey, { service: string; code: string; name: string }>;

/** The Service Quotas a deployment can reach, by what they count. */
export const QUOTAS = {
  alb: { service: "elasticloadbalancing", code: "L-53DA6B97", name: "Application Load Balancers per Region" },
  nlb: { service: "elasticloadbalancing", code: "L-69A177A2", name: "Network Load Balancers per Region" },
  clusters: { service: "eks", code: "L-1194D53C", name: "EKS clusters" },
  ...vcpuQuotas,
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

/** On-demand and spot instances of a pool at its desired capacity (on-demand base first, its share rounded up). */
export function poolSplit(p: AutoScalingGroup["properties"]): { onDemand: number; spot: number } {
  const desired = Math.max(p.min, p.desired);
  if (desired <= p.onDemandBase) return { onDemand: desired, spot: 0 };
  const above = desired - p.onDemandBase;
  const onDemandAbove = Math.ceil((above * p.onDemandPercentAboveBase) / 100);
  return { onDemand: p.onDemandBase + onDemandAbove, spot: above - onDemandAbove };
}

const zero = (): Counts => Object.fromEntries(Object.keys(QUOTAS).map((k) => [k, 0])) as Counts;

/** What is in use now, per quota. */
export function usage(u: RegionUsage, vcpus: Map<string, number>): Counts {
  const out = zero();
  out.alb = u.loadBalancers.filter((lb) => lb.type === "application").length;
  out.nlb = u.loadBalancers.filter((lb) => lb.type === "network").length;
  out.clusters = u.clusters.length;
  for (const i of u.instances) {
    const cls = vcpuClass(i.type);
    if (cls) out[vcpuKey(cls, i.spot ? "spot" : "onDemand")] += vcpus.get(i.type) ?? 0;
  }
  return out;
}

/**
 * What the plan adds on top of what exists: a cluster or load balancer of its name that stands
 * needs nothing; a pool needs the vCPUs of its desired capacity less those its group already
 * runs, against the quota of its types' class. On-demand instances take the pool's first type
 * (prioritized); spot ones may take any, so the largest is counted. Families no quota here
 * covers are not counted.
 */
export function needs(plan: Plan, u: RegionUsage, vcpus: Map<string, number>): Counts {
  const out = zero();
  for (const r of plan.aws) {
    if (r.kind === "eks-cluster" && !u.clusters.includes(r.name)) out.clusters++;
    if (r.kind === "load-balancer" && !u.loadBalancers.some((lb) => lb.name === r.name))
      out[r.properties.type === "network" ? "nlb" : "alb"]++;
    if (r.kind !== "auto-scaling-group") continue;
    const { onDemand, spot } = poolSplit(r.properties);
    const types = r.properties.instanceTypes;
    const running = u.instances.filter((i) => i.group === r.name);
    const has = (cls: VcpuClass, spotInstances: boolean) =>
      running
        .filter((i) => i.spot === spotInstances && vcpuClass(i.type) === cls)
        .reduce((n, i) => n + (vcpus.get(i.type) ?? 0), 0);
    const onDemandClass = vcpuClass(types[0]!);
    if (onDemandClass)
      out[vcpuKey(onDemandClass, "onDemand")] += Math.max(
        0,
        onDemand * (vcpus.get(types[0]!) ?? 0) - has(onDemandClass, false),
      );
    const largest = [...types]
      .filter((t) => vcpuClass(t))
      .sort((a, b) => (vcpus.get(b) ?? 0) - (vcpus.get(a) ?? 0))[0];
    const spotClass = largest ? vcpuClass(largest) : undefined;
    if (largest && spotClass)
      out[vcpuKey(spotClass, "spot")] += Math.max(0, spot * (vcpus.get(largest) ?? 0) - has(spotClass, true));
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

/** What the region runs, as the quotas count it, and the vCPUs of every type involved. */
async function readUsage(plan: Plan, aws: Aws): Promise<{ region: RegionUsage; vcpus: Map<string, number> }> {
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
  return { region, vcpus: types.length ? await aws.ec2.vcpus(types) : new Map<string, number>() };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
  let region: RegionUsage;
  let vcpus: Map<string, number>;
  try {
    ({ region, vcpus } = await readUsage(plan, aws));
  } catch (err) {
    // Not a refusal: a missing read permission or an instance type preflight reports on its own.
    return {
      uses: [],
      notes: [`quotas not checked: what the region uses could not be read (${describeError(err)})`],
    };
  }
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
