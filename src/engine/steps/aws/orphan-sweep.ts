import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import { TAG } from "../../../plan/aws.js";
import type { AwsKind, DnsRecord } from "../../../plan/aws-types.js";
import { COLOURS, namesFor } from "../../../plan/names.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { deletionStep } from "./deletion-step.js";
import { changeAndWait, findColourRecord, rrType } from "./dns-record.js";
import { actualRules } from "./ensure-security-group-rules.js";
import { deleteGroupOnceReleased, heldGroupTimeoutMs } from "./group-interfaces.js";
import { deleteName, type StackEnv, tagRecord } from "./stack-env.js";

/** A resource tagged for an app that no live colour's plan accounts for. */
export interface Orphan {
  kind: AwsKind;
  /** The AWS name (for a record: its set identifier). */
  name: string;
  /** The AWS id or ARN it is deleted by. */
  ref: string;
  colour: string | undefined;
}

/** What the sweep needs to know: the app, and the plans of its live colours (none when no colour is live). */
export interface SweepInput {
  app: string;
  livePlans: Plan[];
  /** The app's DNS record as planned (any colour's), to find weighted members of dead colours. */
  record?: DnsRecord;
}

const key = (kind: string, name: string) => `${kind}:${name}`;

/**
 * Lists every resource tagged `kubecontrol:app=<app>` (and every weighted record member named
 * `kc-<app>-<colour>`) that no live colour's plan contains. App-scoped resources (ECR, IAM) are
 * never orphans while the app's spec exists, so they are not looked at. Read-only.
 */
export async function findOrphans(aws: Aws, input: SweepInput): Promise<Orphan[]> {
  const owned = new Set(
    input.livePlans.flatMap((p) =>
      p.aws.map((r) => key(r.kind, r.kind === "route53-record" ? r.properties.setIdentifier : r.name)),
    ),
  );
  const tagFilter = [{ Name: `tag:${TAG.app}`, Values: [input.app] }];
  const found: Orphan[] = [];
  const add = (kind: AwsKind, name: string, ref: string, tags: Record<string, string>) => {
    if (!owned.has(key(kind, name))) found.push({ kind, name, ref, colour: tags[TAG.colour] });
  };

  for (const name of await aws.eks.listClusters()) {
    if (!name.startsWith("kc-")) continue;
    const c = await aws.eks.describeCluster(name);
    if (c?.tags?.[TAG.app] === input.app) add("eks-cluster", name, name, c.tags);
  }
  for (const g of await aws.autoscaling.describeGroups([], [{ Name: `tag:${TAG.app}`, Values: [input.app] }]))
    add("auto-scaling-group", g.AutoScalingGroupName!, g.AutoScalingGroupName!, tagRecord(g.Tags));
  for (const lt of await aws.ec2.describeLaunchTemplates(tagFilter, `launch templates of ${input.app}`))
    add("launch-template", lt.LaunchTemplateName!, lt.LaunchTemplateId!, tagRecord(lt.Tags));
  for (const sg of await aws.ec2.describeSecurityGroups(tagFilter, `security groups of ${input.app}`))
    add("security-group", sg.GroupName!, sg.GroupId!, tagRecord(sg.Tags));

  const lbs = (await aws.elbv2.listLoadBalancers()).filter((lb) => lb.LoadBalancerName?.startsWith("kc-"));
  const tgs = (await aws.elbv2.listTargetGroups()).filter((tg) => tg.TargetGroupName?.startsWith("kc-"));
  const arns = [...lbs.map((x) => x.LoadBalancerArn!), ...tgs.map((x) => x.TargetGroupArn!)];
  const tags = arns.length ? await aws.elbv2.describeTags(arns, `load balancers of ${input.app}`) : new Map();
  for (const lb of lbs) {
    const t = tagRecord(tags.get(lb.LoadBalancerArn!));
    if (t[TAG.app] === input.app) add("load-balancer", lb.LoadBalancerName!, lb.LoadBalancerArn!, t);
  }
  for (const tg of tgs) {
    const t = tagRecord(tags.get(tg.TargetGroupArn!));
    if (t[TAG.app] === input.app) add("target-group", tg.TargetGroupName!, tg.TargetGroupArn!, t);
  }

  if (input.record) {
    const zone = await aws.route53.findHostedZone(input.record.properties.zone);
    if (zone) {
      // Exactly this app's set identifiers: a prefix would take app shop-x's kc-shop-x-blue for
      // a colour "x-blue" of app shop.
      const ours = new Map(COLOURS.map((c) => [namesFor(input.app, c).recordSetIdentifier, c]));
      for (const set of await aws.route53.recordSets(
        zone.Id!,
        input.record.properties.record,
        rrType(input.record),
      )) {
        const colour = ours.get(set.SetIdentifier ?? "");
        if (colour) add("route53-record", set.SetIdentifier!, zone.Id!, { [TAG.colour]: colour });
      }
    }
  }
  return found;
}

// Deletion order: what uses a resource goes before it.
const PHASES: AwsKind[] = [
  "route53-record",
  "auto-scaling-group",
  "load-balancer",
  "target-group",
  "launch-template",
  "eks-cluster",
  "security-group",
];

/**
 * Steps that delete the orphans found (only when the user asks for it), phase by phase in
 * reverse dependency order; each re-reads its resource first, so a run after a partial sweep
 * finishes it.
 */
export function orphanDeletionSteps(
  aws: Aws,
  orphans: Orphan[],
  input: SweepInput,
  env: Pick<StackEnv, "pace" | "interfaceWaitMs"> = {},
): Step[] {
  const steps: Step[] = [];
  let previous: string[] = [];
  for (const kind of PHASES) {
    const names: string[] = [];
    for (const o of orphans.filter((x) => x.kind === kind)) {
      const step = orphanStep(aws, o, input, env);
      steps.push({ ...step, dependsOn: previous });
      names.push(step.name);
    }
    if (kind === "security-group" && names.length) {
      // Orphaned groups may refer to each other: revoke those rules first.
      const revoke = revokeCrossReferences(
        aws,
        orphans.filter((x) => x.kind === kind),
        previous,
      );
      steps.push(revoke);
      for (const s of steps) if (names.includes(s.name)) s.dependsOn = [...previous, revoke.name];
    }
    if (names.length) previous = names;
  }
  return steps;
}

function revokeCrossReferences(aws: Aws, groups: Orphan[], after: string[]): Step {
  return {
    name: "delete-orphan-security-group-rules",
    description: "revoke rules between orphaned security groups",
    dependsOn: after,
    async check() {
      return { satisfied: false, reason: "look and revoke", needed: undefined };
    },
    async apply() {
      const ids = groups.map((g) => g.ref);
      const found = await aws.ec2.describeSecurityGroups(
        [{ Name: "group-id", Values: ids }],
        "orphaned groups",
      );
      for (const g of found)
        for (const rule of actualRules(g.IpPermissions).filter((r) => r.permission.UserIdGroupPairs?.length))
          await aws.ec2
            .revokeIngress(g.GroupId!, [rule.permission], `ingress of ${g.GroupName}`)
            .catch((err) => {
              if (!hasCode(err, "InvalidPermission.NotFound")) throw err;
            });
      return undefined;
    },
  };
}

function orphanStep(
  aws: Aws,
  o: Orphan,
  input: SweepInput,
  env: Pick<StackEnv, "pace" | "interfaceWaitMs">,
): Step {
  const id = `orphan-${o.kind}/${o.name}`;
  const base = { id, env, description: `orphaned ${o.kind} ${o.name}` };
  // An orphan is the app's (any colour) by its tags, read again right before it is deleted.
  const want = { app: input.app };
  const elbTags = async (arn: string) =>
    tagRecord((await aws.elbv2.describeTags([arn], base.description)).get(arn));
  switch (o.kind) {
    case "eks-cluster":
      return deletionStep({
        ...base,
        find: () => aws.eks.describeCluster(o.name),
        owner: { want, tags: async (c) => c.tags },
        remove: async (c) => (c.status === "DELETING" ? undefined : aws.eks.deleteCluster(o.name)),
        transient: (err) => hasCode(err, "ResourceInUseException"),
        waitGone: true,
      });
    case "auto-scaling-group":
      return deletionStep({
        ...base,
        find: async () => (await aws.autoscaling.describeGroups([o.name]))[0],
        owner: { want, tags: async (g) => tagRecord(g.Tags) },
        remove: async (g) =>
          g.Status === "Delete in progress" ? undefined : aws.autoscaling.deleteGroup(o.name),
        transient: (err) => hasCode(err, "ScalingActivityInProgress", "ResourceInUse"),
        waitGone: true,
      });
    case "launch-template":
      return deletionStep({
        ...base,
        find: async () =>
          (
            await aws.ec2.describeLaunchTemplates(
              [{ Name: "launch-template-name", Values: [o.name] }],
              o.name,
            )
          )[0],
        owner: { want, tags: async (lt) => tagRecord(lt.Tags) },
        remove: () => aws.ec2.deleteLaunchTemplate(o.ref, `launch template ${o.name}`),
      });
    case "security-group":
      return deletionStep({
        ...base,
        find: async () =>
          (await aws.ec2.describeSecurityGroups([{ Name: "group-id", Values: [o.ref] }], o.name))[0],
        owner: { want, tags: async (g) => tagRecord(g.Tags) },
        // An orphaned colour's leaked interfaces are its cluster's: the colour tag names it.
        remove: (_g, ctx) =>
          deleteGroupOnceReleased(
            aws,
            {
              groupId: o.ref,
              what: `security group ${o.name}`,
              cluster: clusterOf(input.app, o.colour),
              env,
            },
            ctx,
          ),
        timeoutMs: heldGroupTimeoutMs(env),
      });
    case "load-balancer":
      return deletionStep({
        ...base,
        find: () => aws.elbv2.describeLoadBalancer(o.name),
        owner: { want, tags: (lb) => elbTags(lb.LoadBalancerArn!) },
        remove: () => aws.elbv2.deleteLoadBalancer(o.ref, `load balancer ${o.name}`),
        waitGone: true,
      });
    case "target-group":
      return deletionStep({
        ...base,
        find: () => aws.elbv2.describeTargetGroup(o.name),
        owner: { want, tags: (tg) => elbTags(tg.TargetGroupArn!) },
        remove: () => aws.elbv2.deleteTargetGroup(o.ref, `target group ${o.name}`),
        transient: (err) => hasCode(err, "ResourceInUse"),
      });
    case "route53-record": {
      const record = { ...input.record!, properties: { ...input.record!.properties, setIdentifier: o.name } };
      return deletionStep({
        ...base,
        find: () => findColourRecord(aws, o.ref, record),
        owner: { byName: `a weighted record is the app's by its set identifier ${o.name}` },
        remove: (set, ctx) =>
          changeAndWait(aws, o.ref, { Action: "DELETE", ResourceRecordSet: set }, ctx, {
            ...input.livePlans,
            ...env,
          } as never),
      });
    }
    default:
      throw new KubecontrolError("INTERNAL", `no orphan deletion for ${o.kind}`);
  }
}

/** The name a sweep step has, for reports. */
export const orphanStepName = (o: Orphan) => deleteName(`orphan-${o.kind}/${o.name}`);

/** The cluster of an app's colour, by the colour a resource's tags name (none for another value). */
function clusterOf(app: string, colour: string | undefined): string | undefined {
  const c = COLOURS.find((x) => x === colour);
  return c ? namesFor(app, c).cluster : undefined;
}
