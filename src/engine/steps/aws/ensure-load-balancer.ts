import type { LoadBalancer as AwsLoadBalancer } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KubecontrolError } from "../../../errors.js";
import type { LoadBalancer } from "../../../plan/aws-types.js";
import { waitUntil } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";
import { elbTags } from "./elb-tags.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import {
  ensureName,
  FIND_NETWORK,
  networkOf,
  pollPace,
  resultOf,
  type StackEnv,
  tagList,
} from "./stack-env.js";

/** What listeners and the DNS record need of the load balancer. */
export interface LoadBalancerRef {
  arn: string;
  name: string;
  dnsName: string;
  /** The zone Route 53 aliases point at. */
  hostedZoneId: string;
}

interface Changes {
  groups?: string[];
  subnets?: string[];
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
export function ensureLoadBalancerStep(
  r: LoadBalancer,
  env: StackEnv,
): Step<EnsureNeeded<AwsLoadBalancer, Changes>, LoadBalancerRef> {
  const { aws } = env;
  const p = r.properties;
  const what = `load balancer ${r.name}`;
  return ensureStep<AwsLoadBalancer, Changes, LoadBalancerRef>({
    r,
    env,
    description: `${p.scheme} ${p.type} load balancer ${r.name}`,
    dependsOn: [FIND_NETWORK, ...p.securityGroups.map(ensureName)],
    timeoutMs: 15 * 60_000,
    find: () => aws.elbv2.describeLoadBalancer(r.name),
    tagsOf: (lb) => elbTags(aws, lb.LoadBalancerArn!, what),
    diff(ctx, lb) {
      if (!lb) return {};
      if (lb.Type !== p.type || lb.Scheme !== p.scheme)
        throw new KubecontrolError(
          "PRECONDITION",
          `${what} is ${lb.Scheme} ${lb.Type}; the plan wants ${p.scheme} ${p.type}`,
          { hint: "a load balancer cannot change type or scheme: deploy to the other colour" },
        );
      const want = placement(r, ctx);
      const subnets = (lb.AvailabilityZones ?? []).map((z) => z.SubnetId!);
      return {
        groups:
          p.type === "application" && !sameSet(lb.SecurityGroups ?? [], want.groups)
            ? want.groups
            : undefined,
        subnets: !sameSet(subnets, want.subnets) ? want.subnets : undefined,
      };
    },
    create(ctx, tags) {
      const want = placement(r, ctx);
      return aws.elbv2.createLoadBalancer({
        Name: r.name,
        Type: p.type,
        Scheme: p.scheme,
        Subnets: want.subnets,
        ...(p.type === "application" ? { SecurityGroups: want.groups } : {}),
        Tags: tagList(tags),
      });
    },
    alreadyExists: ["DuplicateLoadBalancerName", "DuplicateLoadBalancerNameException"],
    tag: (_ctx, lb, tags) => aws.elbv2.addTags(lb.LoadBalancerArn!, tagList(tags), what),
    async change(_ctx, lb, d) {
      if (d.groups) await aws.elbv2.setSecurityGroups(lb.LoadBalancerArn!, d.groups, what);
      if (d.subnets) await aws.elbv2.setSubnets(lb.LoadBalancerArn!, d.subnets, what);
    },
    ref,
    pending: (lb) => (lb.State?.Code === "active" ? undefined : `${lb.State?.Code}`),
    wait(ctx) {
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
    inPlace: (lb) => lb.DNSName!,
    summary: (lb) => lb.dnsName,
  });
}
