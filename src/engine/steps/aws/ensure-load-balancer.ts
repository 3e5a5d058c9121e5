import type { LoadBalancer as AwsLoadBalancer } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KubecontrolError } from "../../../errors.js";
import type { LoadBalancer } from "../../../plan/aws-types.js";
import { waitUntil } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";
import { elbTagsToSet } from "./elb-tags.js";
import {
  awsStep,
  createOrAdopt,
  creationTags,
  ensureName,
  FIND_NETWORK,
  networkOf,
  ownedFind,
  pollPace,
  resultOf,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What listeners and the DNS record need of the load balancer. */
export interface LoadBalancerRef {
  arn: string;
  name: string;
  dnsName: string;
  /** The zone Route 53 aliases point at. */
  hostedZoneId: string;
}

interface Needed {
  arn?: string;
  groups?: string[];
  subnets?: string[];
  tags: Record<string, string>;
}

function ref(lb: AwsLoadBalancer): LoadBalancerRef {
  return {
    arn: lb.LoadBalancerArn!,
    name: lb.LoadBalancerName!,
    dnsName: lb.DNSName!,
    hostedZoneId: lb.CanonicalHostedZoneId!,
  };
}

function placement(r: LoadBalancer, ctx: StepContext) {
  const net = networkOf(ctx);
  return {
    subnets: r.properties.subnets === "public" ? net.publicSubnets : net.privateSubnets,
    groups: r.properties.securityGroups.map((g) => resultOf(ctx, g).id).sort(),
  };
}

const sameSet = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** Ensures the colour's load balancer and waits until it is active. */
export function ensureLoadBalancerStep(r: LoadBalancer, env: StackEnv): Step<Needed, LoadBalancerRef> {
  const { aws } = env;
  const p = r.properties;
  const what = `load balancer ${r.name}`;
  return awsStep<Needed, LoadBalancerRef>({
    name: ensureName(r.id),
    description: `${p.scheme} ${p.type} load balancer ${r.name}`,
    dependsOn: [FIND_NETWORK, ...p.securityGroups.map(ensureName)],
    timeoutMs: 15 * 60_000,
    async check(ctx) {
      const lb = await aws.elbv2.describeLoadBalancer(r.name);
      if (!lb) return { satisfied: false, reason: "missing", needed: { tags: {} } };
      if (lb.Type !== p.type || lb.Scheme !== p.scheme)
        throw new KubecontrolError(
          "PRECONDITION",
          `${what} is ${lb.Scheme} ${lb.Type}; the plan wants ${p.scheme} ${p.type}`,
          { hint: "a load balancer cannot change type or scheme: deploy to the other colour" },
        );
      const want = placement(r, ctx);
      const subnets = (lb.AvailabilityZones ?? []).map((z) => z.SubnetId!);
      const needed: Needed = {
        arn: lb.LoadBalancerArn!,
        ...(p.type === "application" && !sameSet(lb.SecurityGroups ?? [], want.groups)
          ? { groups: want.groups }
          : {}),
        ...(!sameSet(subnets, want.subnets) ? { subnets: want.subnets } : {}),
        tags: await elbTagsToSet(aws, lb.LoadBalancerArn!, r, env, what),
      };
      if (
        !needed.groups &&
        !needed.subnets &&
        !Object.keys(needed.tags).length &&
        lb.State?.Code === "active"
      )
        return { satisfied: true, reason: lb.DNSName!, value: ref(lb) };
      return {
        satisfied: false,
        reason: lb.State?.Code === "active" ? "differs" : `${lb.State?.Code}`,
        needed,
      };
    },
    async apply(ctx, n) {
      if (n.arn) {
        if (n.groups) await aws.elbv2.setSecurityGroups(n.arn, n.groups, what);
        if (n.subnets) await aws.elbv2.setSubnets(n.arn, n.subnets, what);
        if (Object.keys(n.tags).length) await aws.elbv2.addTags(n.arn, tagList(n.tags), what);
        return undefined;
      }
      const want = placement(r, ctx);
      await createOrAdopt(
        () =>
          aws.elbv2.createLoadBalancer({
            Name: r.name,
            Type: p.type,
            Scheme: p.scheme,
            Subnets: want.subnets,
            ...(p.type === "application" ? { SecurityGroups: want.groups } : {}),
            Tags: tagList(creationTags(r.tags, env.runId)),
          }),
        ownedFind(
          () => aws.elbv2.describeLoadBalancer(r.name),
          async (lb) =>
            tagRecord((await aws.elbv2.describeTags([lb.LoadBalancerArn!], what)).get(lb.LoadBalancerArn!)),
          r,
          env,
        ),
        ["DuplicateLoadBalancerName", "DuplicateLoadBalancerNameException"],
      );
      return undefined;
    },
    async wait(ctx) {
      ctx.waiting(`${what} to be active`);
      return waitUntil(
        async () => {
          const lb = await aws.elbv2.describeLoadBalancer(r.name);
          if (lb?.State?.Code === "active") return { done: true, value: ref(lb) };
          if (lb?.State?.Code === "failed")
            throw new KubecontrolError("AWS", `${what} failed: ${lb.State.Reason}`);
          return { done: false, state: lb?.State?.Code ?? "missing" };
        },
        { what: `${what} to be active`, timeoutMs: 10 * 60_000, signal: ctx.signal, ...pollPace(env) },
      );
    },
    summarize: (changed, lb) => `${changed ? "ready" : "found"} ${lb?.dnsName ?? r.name}`,
  });
}
