import type * as Sdk from "@aws-sdk/client-elastic-load-balancing-v2";
import type { AwsOptions } from "./client-config.js";
import { awsCall, orAbsent } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;
type Client = Sdk.ElasticLoadBalancingV2Client;

/** The ELBv2 calls kubecontrol makes: load balancers, target groups, listeners, tags. */
export class Elbv2 {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-elastic-load-balancing-v2"),
      (m, c) => new m.ElasticLoadBalancingV2Client(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Client) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("elbv2", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Client) => Promise<T>): Promise<T> {
    const { m, once } = await this.sdk();
    return awsCall("elbv2", op, what, () => f(m, once));
  }

  /** A load balancer by name, or undefined. */
  async describeLoadBalancer(name: string): Promise<Sdk.LoadBalancer | undefined> {
    return orAbsent(
      () =>
        this.run("DescribeLoadBalancers", `load balancer ${name}`, async (m, c) => {
          return (await c.send(new m.DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.[0];
        }),
      "LoadBalancerNotFound",
      "LoadBalancerNotFoundException",
    );
  }

  /** Every load balancer in the region. */
  listLoadBalancers(): Promise<Sdk.LoadBalancer[]> {
    return this.run("DescribeLoadBalancers", "load balancers", (m, c) =>
      allPages(async (Marker) => {
        const r = await c.send(new m.DescribeLoadBalancersCommand({ Marker }));
        return { items: r.LoadBalancers, next: r.NextMarker };
      }),
    );
  }

  /** Creates a load balancer. */
  createLoadBalancer(input: Sdk.CreateLoadBalancerCommandInput): Promise<Sdk.LoadBalancer> {
    return this.runOnce("CreateLoadBalancer", `load balancer ${input.Name}`, async (m, c) => {
      return (await c.send(new m.CreateLoadBalancerCommand(input))).LoadBalancers![0]!;
    });
  }

  /** Replaces a load balancer's security groups. */
  async setSecurityGroups(arn: string, groups: string[], what: string): Promise<void> {
    await this.run("SetSecurityGroups", what, (m, c) =>
      c.send(new m.SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups: groups })),
    );
  }

  /** Replaces a load balancer's subnets. */
  async setSubnets(arn: string, subnets: string[], what: string): Promise<void> {
    await this.run("SetSubnets", what, (m, c) =>
      c.send(new m.SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: subnets })),
    );
  }

  /** Deletes a load balancer. */
  async deleteLoadBalancer(arn: string, what: string): Promise<void> {
    await this.run("DeleteLoadBalancer", what, (m, c) =>
      c.send(new m.DeleteLoadBalancerCommand({ LoadBalancerArn: arn })),
    );
  }

  /** A target group by name, or undefined. */
  describeTargetGroup(name: string): Promise<Sdk.TargetGroup | undefined> {
    return orAbsent(
      () =>
        this.run("DescribeTargetGroups", `target group ${name}`, async (m, c) => {
          return (await c.send(new m.DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
        }),
      "TargetGroupNotFound",
      "TargetGroupNotFoundException",
    );
  }

  /** The health of a target group's registered targets. */
  describeTargetHealth(arn: string, what: string): Promise<Sdk.TargetHealthDescription[]> {
    return this.run("DescribeTargetHealth", what, async (m, c) => {
      return (
        (await c.send(new m.DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ??
        []
      );
    });
  }

  /** Every target group in the region. */
  /**
   * Each named target group's targets: how many are healthy of how many registered, or
   * `missing` when the group does not exist. Read group by group, in order.
   */
  async targetGroupsHealth(
    names: string[],
  ): Promise<{ name: string; missing: boolean; healthy: number; total: number }[]> {
    const out: { name: string; missing: boolean; healthy: number; total: number }[] = [];
    for (const name of names) {
      const tg = await this.describeTargetGroup(name);
      if (!tg?.TargetGroupArn) {
        out.push({ name, missing: true, healthy: 0, total: 0 });
        continue;
      }
      const health = await this.describeTargetHealth(tg.TargetGroupArn, `target group ${name}`);
      const healthy = health.filter((h) => h.TargetHealth?.State === "healthy").length;
      out.push({ name, missing: false, healthy, total: health.length });
    }
    return out;
  }

  listTargetGroups(): Promise<Sdk.TargetGroup[]> {
    return this.run("DescribeTargetGroups", "target groups", (m, c) =>
      allPages(async (Marker) => {
        const r = await c.send(new m.DescribeTargetGroupsCommand({ Marker }));
        return { items: r.TargetGroups, next: r.NextMarker };
      }),
    );
  }

  /** Creates a target group. */
  createTargetGroup(input: Sdk.CreateTargetGroupCommandInput): Promise<Sdk.TargetGroup> {
    return this.runOnce("CreateTargetGroup", `target group ${input.Name}`, async (m, c) => {
      return (await c.send(new m.CreateTargetGroupCommand(input))).TargetGroups![0]!;
    });
  }

  /** Changes a target group's health check. */
  async modifyTargetGroup(input: Sdk.ModifyTargetGroupCommandInput, what: string): Promise<void> {
    await this.run("ModifyTargetGroup", what, (m, c) => c.send(new m.ModifyTargetGroupCommand(input)));
  }

  /** Deletes a target group. */
  async deleteTargetGroup(arn: string, what: string): Promise<void> {
    await this.run("DeleteTargetGroup", what, (m, c) =>
      c.send(new m.DeleteTargetGroupCommand({ TargetGroupArn: arn })),
    );
  }

  /** Listeners of a load balancer. */
  listListeners(loadBalancerArn: string, what: string): Promise<Sdk.Listener[]> {
    return this.run("DescribeListeners", what, (m, c) =>
      allPages(async (Marker) => {
        const r = await c.send(new m.DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker }));
        return { items: r.Listeners, next: r.NextMarker };
      }),
    );
  }

  /** Creates a listener. */
  createListener(input: Sdk.CreateListenerCommandInput, what: string): Promise<Sdk.Listener> {
    return this.runOnce("CreateListener", what, async (m, c) => {
      return (await c.send(new m.CreateListenerCommand(input))).Listeners![0]!;
    });
  }

  /** Changes a listener's protocol, certificate or default action. */
  async modifyListener(input: Sdk.ModifyListenerCommandInput, what: string): Promise<void> {
    await this.run("ModifyListener", what, (m, c) => c.send(new m.ModifyListenerCommand(input)));
  }

  /** Deletes a listener. */
  async deleteListener(arn: string, what: string): Promise<void> {
    await this.run("DeleteListener", what, (m, c) =>
      c.send(new m.DeleteListenerCommand({ ListenerArn: arn })),
    );
  }

  /** Tags of up to 20 ELBv2 resources, by ARN. */
  async describeTags(arns: string[], what: string): Promise<Map<string, Sdk.Tag[]>> {
    return this.run("DescribeTags", what, async (m, c) => {
      const out = new Map<string, Sdk.Tag[]>();
      for (let i = 0; i < arns.length; i += 20) {
        const r = await c.send(new m.DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
        for (const d of r.TagDescriptions ?? []) out.set(d.ResourceArn!, d.Tags ?? []);
      }
      return out;
    });
  }

  /** Adds or overwrites tags of an ELBv2 resource. */
  async addTags(arn: string, tags: Sdk.Tag[], what: string): Promise<void> {
    await this.run("AddTags", what, (m, c) =>
      c.send(new m.AddTagsCommand({ ResourceArns: [arn], Tags: tags })),
    );
  }

  /** Removes tags of an ELBv2 resource. */
  async removeTags(arn: string, keys: string[], what: string): Promise<void> {
    await this.run("RemoveTags", what, (m, c) =>
      c.send(new m.RemoveTagsCommand({ ResourceArns: [arn], TagKeys: keys })),
    );
  }
}
