import type * as Sdk from "@aws-sdk/client-auto-scaling";
import type { AwsOptions } from "./client-config.js";
import { awsCall } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The Auto Scaling calls kubecontrol makes. */
export class AutoScaling {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-auto-scaling"),
      (m, c) => new m.AutoScalingClient(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.AutoScalingClient) => Promise<T>) {
    const { m, client } = await this.sdk();
    return awsCall("autoscaling", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Sdk.AutoScalingClient) => Promise<T>) {
    const { m, once } = await this.sdk();
    return awsCall("autoscaling", op, what, () => f(m, once));
  }

  /** Groups by name, or by tag filters when no names are given. */
  describeGroups(names: string[], filters?: Sdk.Filter[]): Promise<Sdk.AutoScalingGroup[]> {
    const what = names.length ? `auto scaling group ${names.join(", ")}` : "auto scaling groups";
    return this.run("DescribeAutoScalingGroups", what, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(
          new m.DescribeAutoScalingGroupsCommand({
            ...(names.length ? { AutoScalingGroupNames: names } : {}),
            ...(filters ? { Filters: filters } : {}),
            NextToken,
          }),
        );
        return { items: r.AutoScalingGroups, next: r.NextToken };
      }),
    );
  }

  /** The group's most recent scaling activities, newest first (launches, with why one failed). */
  async scalingActivities(name: string, max = 10): Promise<Sdk.Activity[]> {
    return this.run("DescribeScalingActivities", `auto scaling group ${name}`, async (m, c) => {
      const r = await c.send(
        new m.DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: max }),
      );
      return r.Activities ?? [];
    });
  }

  /** Creates a group. */
  async createGroup(input: Sdk.CreateAutoScalingGroupCommandInput): Promise<void> {
    await this.runOnce("CreateAutoScalingGroup", `auto scaling group ${input.AutoScalingGroupName}`, (m, c) =>
      c.send(new m.CreateAutoScalingGroupCommand(input)),
    );
  }

  /** Updates a group's sizes and policy (never its desired capacity: that is the operator's). */
  async updateGroup(input: Sdk.UpdateAutoScalingGroupCommandInput): Promise<void> {
    await this.run("UpdateAutoScalingGroup", `auto scaling group ${input.AutoScalingGroupName}`, (m, c) =>
      c.send(new m.UpdateAutoScalingGroupCommand(input)),
    );
  }

  /** Deletes a group and terminates its instances. */
  async deleteGroup(name: string): Promise<void> {
    await this.run("DeleteAutoScalingGroup", `auto scaling group ${name}`, (m, c) =>
      c.send(new m.DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })),
    );
  }

  /** Creates or updates tags of a group. */
  async putTags(tags: Sdk.Tag[], what: string): Promise<void> {
    await this.run("CreateOrUpdateTags", what, (m, c) =>
      c.send(new m.CreateOrUpdateTagsCommand({ Tags: tags })),
    );
  }

  /** Removes tags of a group. */
  async deleteTags(tags: Sdk.Tag[], what: string): Promise<void> {
    await this.run("DeleteTags", what, (m, c) => c.send(new m.DeleteTagsCommand({ Tags: tags })));
  }

  /** Attaches target groups to a group. */
  async attachTargetGroups(name: string, arns: string[]): Promise<void> {
    await this.run("AttachLoadBalancerTargetGroups", `auto scaling group ${name}`, (m, c) =>
      c.send(
        new m.AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: arns }),
      ),
    );
  }

  /** Detaches target groups from a group. */
  async detachTargetGroups(name: string, arns: string[]): Promise<void> {
    await this.run("DetachLoadBalancerTargetGroups", `auto scaling group ${name}`, (m, c) =>
      c.send(
        new m.DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: arns }),
      ),
    );
  }
}
