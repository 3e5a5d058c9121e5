import type { DnsRecord } from "../../src/plan/aws-types.js";
import type { Plan } from "../../src/plan/plan.js";
import type { TestSandbox } from "../helpers/sandbox.js";
import { awsCli } from "./stack-fixture.js";

type Tags = Record<string, string>;
type CliTag = { Key?: string; Value?: string };
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read field by field
type Json = Record<string, any>;

const record = (tags: CliTag[] | Tags | undefined): Tags =>
  Array.isArray(tags) ? Object.fromEntries(tags.map((t) => [t.Key ?? "", t.Value ?? ""])) : (tags ?? {});

async function quiet<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch {
    return undefined;
  }
}

/** Runs async work a few at a time: each CLI call is a Python start-up. */
async function bounded<T>(tasks: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/**
 * What the AWS CLI sees of a plan's resources: for each logical id, the tags of every AWS
 * resource found under its name (two entries would be a duplicate). Independent of the code
 * under test: every lookup is an `aws` command, batched per service.
 */
export async function inventory(sbx: TestSandbox, plan: Plan): Promise<Map<string, Tags[]>> {
  const cli = (args: string[]) => awsCli(sbx, args) as Promise<Json>;
  const of = (kind: string) => plan.aws.filter((r) => r.kind === kind);
  const names = (kind: string) => of(kind).map((r) => r.name);
  const out = new Map<string, Tags[]>();
  const put = (id: string, tags: Tags) => out.set(id, [...(out.get(id) ?? []), tags]);
  const byName = (kind: string, items: Json[], nameOf: (x: Json) => string, tagsOf: (x: Json) => Tags) => {
    for (const r of of(kind)) for (const x of items.filter((i) => nameOf(i) === r.name)) put(r.id, tagsOf(x));
  };
  const cluster = of("eks-cluster")[0]!.name;
  const lbName = of("load-balancer")[0]?.name;
  const record53 = plan.aws.find((r) => r.kind === "route53-record");
  const [groups, templates, asgs, lbs, tgs, roles, profile, repo, eks] = await bounded([
    () =>
      cli([
        "ec2",
        "describe-security-groups",
        "--filters",
        `Name=group-name,Values=${names("security-group").join(",")}`,
      ]),
    () =>
      cli([
        "ec2",
        "describe-launch-templates",
        "--filters",
        `Name=launch-template-name,Values=${names("launch-template").join(",")}`,
      ]),
    () =>
      cli([
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        ...names("auto-scaling-group"),
      ]),
    async () =>
      lbName ? ((await quiet(() => cli(["elbv2", "describe-load-balancers", "--names", lbName]))) ?? {}) : {},
    async () =>
      (await quiet(() => cli(["elbv2", "describe-target-groups", "--names", ...names("target-group")]))) ??
      {},
    async () => {
      const found: Json[] = [];
      for (const n of names("iam-role")) {
        const role = await quiet(() => cli(["iam", "get-role", "--role-name", n]));
        if (role) found.push(role.Role);
      }
      return { Roles: found };
    },
    // moto answers ListInstanceProfileTags with a 500 (.notes/aws.md); GetInstanceProfile has the tags.
    async () =>
      (await quiet(() =>
        cli(["iam", "get-instance-profile", "--instance-profile-name", names("iam-instance-profile")[0]!]),
      )) ?? {},
    async () => {
      const r = await quiet(() =>
        cli(["ecr", "describe-repositories", "--repository-names", names("ecr-repository")[0]!]),
      );
      const arn = r?.repositories?.[0]?.repositoryArn;
      return arn
        ? { arn, tags: (await cli(["ecr", "list-tags-for-resource", "--resource-arn", arn])).tags }
        : {};
    },
    async () => {
      const c = await quiet(() => cli(["eks", "describe-cluster", "--name", cluster]));
      if (!c) return {};
      const arns = (await cli(["eks", "list-access-entries", "--cluster-name", cluster]))
        .accessEntries as string[];
      const entries: Json[] = [];
      for (const arn of arns)
        entries.push(
          (await cli(["eks", "describe-access-entry", "--cluster-name", cluster, "--principal-arn", arn]))
            .accessEntry,
        );
      return { cluster: c.cluster, entries };
    },
  ]);
  byName(
    "security-group",
    groups!.SecurityGroups,
    (x) => x.GroupName,
    (x) => record(x.Tags),
  );
  byName(
    "launch-template",
    templates!.LaunchTemplates,
    (x) => x.LaunchTemplateName,
    (x) => record(x.Tags),
  );
  byName(
    "auto-scaling-group",
    asgs!.AutoScalingGroups,
    (x) => x.AutoScalingGroupName,
    (x) => record(x.Tags),
  );
  byName(
    "iam-role",
    roles!.Roles,
    (x) => x.RoleName,
    (x) => record(x.Tags),
  );
  if (profile!.InstanceProfile)
    byName(
      "iam-instance-profile",
      [profile!.InstanceProfile],
      (x) => x.InstanceProfileName,
      (x) => record(x.Tags),
    );
  if (repo!.arn)
    byName(
      "ecr-repository",
      [{ name: names("ecr-repository")[0], tags: repo!.tags }],
      (x) => x.name,
      (x) => record(x.tags),
    );
  if (eks!.cluster) {
    byName(
      "eks-cluster",
      [eks!.cluster],
      (x) => x.name,
      (x) => x.tags ?? {},
    );
    const roleArns = new Map((roles!.Roles as Json[]).map((x) => [x.RoleName, x.Arn]));
    for (const r of of("eks-access-entry")) {
      if (r.kind !== "eks-access-entry") continue;
      const p = r.properties.principal;
      const arn = "arn" in p ? p.arn : roleArns.get(plan.aws.find((x) => x.id === p.role)!.name);
      for (const e of (eks!.entries as Json[]).filter((x) => x.principalArn === arn)) put(r.id, e.tags ?? {});
    }
  }

  const lbList = (lbs!.LoadBalancers ?? []) as Json[];
  const tgList = (tgs!.TargetGroups ?? []) as Json[];
  const listeners = lbList.length
    ? ((await cli(["elbv2", "describe-listeners", "--load-balancer-arn", lbList[0]!.LoadBalancerArn]))
        .Listeners as Json[])
    : [];
  const arns = [
    ...lbList.map((x) => x.LoadBalancerArn),
    ...tgList.map((x) => x.TargetGroupArn),
    ...listeners.map((x) => x.ListenerArn),
  ];
  const elbTags = new Map<string, Tags>();
  if (arns.length)
    for (const d of (await cli(["elbv2", "describe-tags", "--resource-arns", ...arns]))
      .TagDescriptions as Json[])
      elbTags.set(d.ResourceArn, record(d.Tags));
  byName(
    "load-balancer",
    lbList,
    (x) => x.LoadBalancerName,
    (x) => elbTags.get(x.LoadBalancerArn) ?? {},
  );
  byName(
    "target-group",
    tgList,
    (x) => x.TargetGroupName,
    (x) => elbTags.get(x.TargetGroupArn) ?? {},
  );
  for (const r of of("listener")) {
    if (r.kind !== "listener") continue;
    for (const l of listeners.filter((x) => x.Port === r.properties.port))
      put(r.id, elbTags.get(l.ListenerArn) ?? {});
  }

  if (record53?.kind === "route53-record") {
    const zones = (
      await cli(["route53", "list-hosted-zones-by-name", "--dns-name", record53.properties.zone])
    ).HostedZones as Json[];
    const zone = zones.find((z) => z.Name === `${record53.properties.zone}.`);
    if (zone) {
      const sets = (await cli(["route53", "list-resource-record-sets", "--hosted-zone-id", zone.Id]))
        .ResourceRecordSets as Json[];
      for (const s of sets.filter((x) => x.SetIdentifier === record53.properties.setIdentifier))
        put(record53.id, {
          weight: String(s.Weight),
          value: s.ResourceRecords?.[0]?.Value ?? s.AliasTarget?.DNSName,
        });
    }
  }
  return out;
}

/** Names of the EC2 and Auto Scaling resources the CLI finds tagged for an app and colour. */
export async function taggedFor(sbx: TestSandbox, app: string, colour: string): Promise<string[]> {
  const cli = (args: string[]) => awsCli(sbx, args) as Promise<Json>;
  const filters = [`Name=tag:kubecontrol:app,Values=${app}`, `Name=tag:kubecontrol:colour,Values=${colour}`];
  const [groups, templates, asgs] = await bounded([
    () => cli(["ec2", "describe-security-groups", "--filters", ...filters]),
    () => cli(["ec2", "describe-launch-templates", "--filters", ...filters]),
    () => cli(["autoscaling", "describe-auto-scaling-groups", "--filters", ...filters]),
  ]);
  return [
    ...(groups!.SecurityGroups as Json[]).map((g) => `sg:${g.GroupName}`),
    ...(templates!.LaunchTemplates as Json[]).map((t) => `lt:${t.LaunchTemplateName}`),
    ...(asgs!.AutoScalingGroups as Json[]).map((a) => `asg:${a.AutoScalingGroupName}`),
  ].sort();
}

/** The members of the app's weighted record set that kubecontrol made (set identifier kc-<app>-…), via the CLI. */
export async function recordMembers(
  sbx: TestSandbox,
  record: DnsRecord,
): Promise<{ set: string; weight: number; value: string }[]> {
  const cli = (args: string[]) => awsCli(sbx, args) as Promise<Json>;
  const zones = (await cli(["route53", "list-hosted-zones-by-name", "--dns-name", record.properties.zone]))
    .HostedZones as Json[];
  const zone = zones.find((z) => z.Name === `${record.properties.zone}.`)!;
  const sets = (await cli(["route53", "list-resource-record-sets", "--hosted-zone-id", zone.Id]))
    .ResourceRecordSets as Json[];
  const prefix = record.properties.setIdentifier.replace(/-(blue|green)$/, "-");
  return sets
    .filter(
      (s) => s.Name === `${record.properties.record}.` && String(s.SetIdentifier ?? "").startsWith(prefix),
    )
    .map((s) => ({
      set: s.SetIdentifier,
      weight: s.Weight,
      value: s.ResourceRecords?.[0]?.Value ?? s.AliasTarget?.DNSName,
    }));
}
