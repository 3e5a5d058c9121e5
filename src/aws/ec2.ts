import type * as Sdk from "@aws-sdk/client-ec2";
import type { AwsOptions } from "./client-config.js";
import { awsCall } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The EC2 calls kubecontrol makes: network lookup, security groups and the interfaces that hold them, launch templates, offerings. */
export class Ec2 {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-ec2"),
      (m, c) => new m.EC2Client(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.EC2Client) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("ec2", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Sdk.EC2Client) => Promise<T>): Promise<T> {
    const { m, once } = await this.sdk();
    return awsCall("ec2", op, what, () => f(m, once));
  }

  /** VPCs matching the filters. */
  describeVpcs(filters: Sdk.Filter[], vpcIds?: string[]): Promise<Sdk.Vpc[]> {
    return this.run("DescribeVpcs", "the VPC", (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(new m.DescribeVpcsCommand({ Filters: filters, VpcIds: vpcIds, NextToken }));
        return { items: r.Vpcs, next: r.NextToken };
      }),
    );
  }

  /** Subnets of a VPC. */
  describeSubnets(vpcId: string): Promise<Sdk.Subnet[]> {
    return this.run("DescribeSubnets", `subnets of ${vpcId}`, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(
          new m.DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }], NextToken }),
        );
        return { items: r.Subnets, next: r.NextToken };
      }),
    );
  }

  /** Security groups matching the filters. */
  describeSecurityGroups(filters: Sdk.Filter[], what: string): Promise<Sdk.SecurityGroup[]> {
    return this.run("DescribeSecurityGroups", what, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(new m.DescribeSecurityGroupsCommand({ Filters: filters, NextToken }));
        return { items: r.SecurityGroups, next: r.NextToken };
      }),
    );
  }

  /** Creates a security group; returns its id. */
  createSecurityGroup(input: Sdk.CreateSecurityGroupCommandInput): Promise<string> {
    return this.runOnce("CreateSecurityGroup", `security group ${input.GroupName}`, async (m, c) => {
      const r = await c.send(new m.CreateSecurityGroupCommand(input));
      return r.GroupId!;
    });
  }

  /** Deletes a security group. */
  async deleteSecurityGroup(groupId: string, what: string): Promise<void> {
    await this.run("DeleteSecurityGroup", what, (m, c) =>
      c.send(new m.DeleteSecurityGroupCommand({ GroupId: groupId })),
    );
  }

  /** Network interfaces that use a security group, attached or not. */
  networkInterfacesUsing(groupId: string, what: string): Promise<Sdk.NetworkInterface[]> {
    return this.run("DescribeNetworkInterfaces", what, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(
          new m.DescribeNetworkInterfacesCommand({
            Filters: [{ Name: "group-id", Values: [groupId] }],
            NextToken,
          }),
        );
        return { items: r.NetworkInterfaces, next: r.NextToken };
      }),
    );
  }

  /** Deletes a network interface (refused while it is attached: InvalidNetworkInterface.InUse). */
  async deleteNetworkInterface(interfaceId: string, what: string): Promise<void> {
    await this.run("DeleteNetworkInterface", what, (m, c) =>
      c.send(new m.DeleteNetworkInterfaceCommand({ NetworkInterfaceId: interfaceId })),
    );
  }

  /** Adds ingress rules to a group. */
  async authorizeIngress(groupId: string, permissions: Sdk.IpPermission[], what: string): Promise<void> {
    await this.run("AuthorizeSecurityGroupIngress", what, (m, c) =>
      c.send(new m.AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions })),
    );
  }

  /** Removes ingress rules from a group. */
  async revokeIngress(groupId: string, permissions: Sdk.IpPermission[], what: string): Promise<void> {
    await this.run("RevokeSecurityGroupIngress", what, (m, c) =>
      c.send(new m.RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions })),
    );
  }

  /** Sets tags on EC2 resources. */
  async createTags(resourceId: string, tags: Sdk.Tag[], what: string): Promise<void> {
    await this.run("CreateTags", what, (m, c) =>
      c.send(new m.CreateTagsCommand({ Resources: [resourceId], Tags: tags })),
    );
  }

  /** Removes tags (by key) from EC2 resources. */
  async deleteTags(resourceId: string, keys: string[], what: string): Promise<void> {
    await this.run("DeleteTags", what, (m, c) =>
      c.send(new m.DeleteTagsCommand({ Resources: [resourceId], Tags: keys.map((Key) => ({ Key })) })),
    );
  }

  /** Launch templates matching the filters. */
  describeLaunchTemplates(filters: Sdk.Filter[], what: string): Promise<Sdk.LaunchTemplate[]> {
    return this.run("DescribeLaunchTemplates", what, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(new m.DescribeLaunchTemplatesCommand({ Filters: filters, NextToken }));
        return { items: r.LaunchTemplates, next: r.NextToken };
      }),
    );
  }

  /** One version of a launch template ("$Default", "$Latest" or a number). */
  describeLaunchTemplateVersion(
    templateId: string,
    version: string,
    what: string,
  ): Promise<Sdk.LaunchTemplateVersion | undefined> {
    return this.run("DescribeLaunchTemplateVersions", what, async (m, c) => {
      const r = await c.send(
        new m.DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
      );
      return r.LaunchTemplateVersions?.[0];
    });
  }

  /** Creates a launch template; returns its id. */
  createLaunchTemplate(input: Sdk.CreateLaunchTemplateCommandInput): Promise<string> {
    return this.runOnce(
      "CreateLaunchTemplate",
      `launch template ${input.LaunchTemplateName}`,
      async (m, c) => {
        const r = await c.send(new m.CreateLaunchTemplateCommand(input));
        return r.LaunchTemplate!.LaunchTemplateId!;
      },
    );
  }

  /** Adds a version to a launch template; returns its number. */
  createLaunchTemplateVersion(
    templateId: string,
    data: Sdk.RequestLaunchTemplateData,
    what: string,
  ): Promise<number> {
    return this.runOnce("CreateLaunchTemplateVersion", what, async (m, c) => {
      const r = await c.send(
        new m.CreateLaunchTemplateVersionCommand({ LaunchTemplateId: templateId, LaunchTemplateData: data }),
      );
      return r.LaunchTemplateVersion!.VersionNumber!;
    });
  }

  /** Makes a version the launch template's default. */
  async setDefaultLaunchTemplateVersion(templateId: string, version: number, what: string): Promise<void> {
    await this.run("ModifyLaunchTemplate", what, (m, c) =>
      c.send(
        new m.ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: String(version) }),
      ),
    );
  }

  /** Deletes a launch template and all its versions. */
  async deleteLaunchTemplate(templateId: string, what: string): Promise<void> {
    await this.run("DeleteLaunchTemplate", what, (m, c) =>
      c.send(new m.DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId })),
    );
  }

  /** Which of these instance types are offered in which zones of the region. */
  instanceTypeOfferings(types: string[]): Promise<Sdk.InstanceTypeOffering[]> {
    return this.run("DescribeInstanceTypeOfferings", `instance types ${types.join(", ")}`, (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(
          new m.DescribeInstanceTypeOfferingsCommand({
            LocationType: "availability-zone",
            Filters: [{ Name: "instance-type", Values: types }],
            NextToken,
          }),
        );
        return { items: r.InstanceTypeOfferings, next: r.NextToken };
      }),
    );
  }

  /** Pending and running instances of the region (vCPU quotas count both). */
  liveInstances(): Promise<Sdk.Instance[]> {
    return this.run("DescribeInstances", "running instances", (m, c) =>
      allPages(async (NextToken) => {
        const r = await c.send(
          new m.DescribeInstancesCommand({
            Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }],
            NextToken,
          }),
        );
        return { items: r.Reservations?.flatMap((res) => res.Instances ?? []), next: r.NextToken };
      }),
    );
  }

  /** Default vCPUs of each instance type (VCpuInfo.DefaultVCpus). */
  async vcpus(types: string[]): Promise<Map<string, number>> {
    // DescribeInstanceTypes takes at most 100 types a call.
    const batches = Array.from({ length: Math.ceil(types.length / 100) }, (_, i) =>
      types.slice(i * 100, i * 100 + 100),
    );
    const infos = await Promise.all(
      batches.map((batch) =>
        this.run("DescribeInstanceTypes", `instance types ${batch.join(", ")}`, (m, c) =>
          allPages(async (NextToken) => {
            const r = await c.send(
              new m.DescribeInstanceTypesCommand({ InstanceTypes: batch as Sdk._InstanceType[], NextToken }),
            );
            return { items: r.InstanceTypes, next: r.NextToken };
          }),
        ),
      ),
    );
    return new Map(infos.flat().map((t) => [t.InstanceType!, t.VCpuInfo?.DefaultVCpus ?? 0]));
  }
}
