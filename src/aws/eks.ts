import type * as Sdk from "@aws-sdk/client-eks";
import type { AwsOptions } from "./client-config.js";
import { awsCall, orAbsent } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The EKS calls kubecontrol makes: clusters and access entries. */
export class Eks {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-eks"),
      (m, c) => new m.EKSClient(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.EKSClient) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("eks", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Sdk.EKSClient) => Promise<T>): Promise<T> {
    const { m, once } = await this.sdk();
    return awsCall("eks", op, what, () => f(m, once));
  }

  /** The cluster, or undefined when there is none of that name. */
  describeCluster(name: string): Promise<Sdk.Cluster | undefined> {
    return orAbsent(
      () =>
        this.run("DescribeCluster", `cluster ${name}`, async (m, c) => {
          return (await c.send(new m.DescribeClusterCommand({ name }))).cluster;
        }),
      "ResourceNotFoundException",
    );
  }

  /** Names of every cluster in the region. */
  listClusters(): Promise<string[]> {
    return this.run("ListClusters", "clusters", (m, c) =>
      allPages(async (nextToken) => {
        const r = await c.send(new m.ListClustersCommand({ nextToken }));
        return { items: r.clusters, next: r.nextToken };
      }),
    );
  }

  /** Creates a cluster (it starts CREATING). */
  async createCluster(input: Sdk.CreateClusterCommandInput): Promise<Sdk.Cluster | undefined> {
    return this.runOnce("CreateCluster", `cluster ${input.name}`, async (m, c) => {
      return (await c.send(new m.CreateClusterCommand(input))).cluster;
    });
  }

  /** Changes endpoint access of a cluster. */
  async updateClusterConfig(input: Sdk.UpdateClusterConfigCommandInput): Promise<void> {
    await this.run("UpdateClusterConfig", `cluster ${input.name}`, (m, c) =>
      c.send(new m.UpdateClusterConfigCommand(input)),
    );
  }

  /** Deletes a cluster (it goes DELETING, then away). */
  async deleteCluster(name: string): Promise<void> {
    await this.run("DeleteCluster", `cluster ${name}`, (m, c) =>
      c.send(new m.DeleteClusterCommand({ name })),
    );
  }

  /** Adds tags to an EKS resource. */
  async tagResource(arn: string, tags: Record<string, string>, what: string): Promise<void> {
    await this.run("TagResource", what, (m, c) =>
      c.send(new m.TagResourceCommand({ resourceArn: arn, tags })),
    );
  }

  /** Removes tags from an EKS resource. */
  async untagResource(arn: string, keys: string[], what: string): Promise<void> {
    await this.run("UntagResource", what, (m, c) =>
      c.send(new m.UntagResourceCommand({ resourceArn: arn, tagKeys: keys })),
    );
  }

  /** The access entry of a principal, or undefined. */
  describeAccessEntry(cluster: string, principalArn: string): Promise<Sdk.AccessEntry | undefined> {
    return orAbsent(
      () =>
        this.run("DescribeAccessEntry", `access entry ${principalArn} of ${cluster}`, async (m, c) => {
          const r = await c.send(new m.DescribeAccessEntryCommand({ clusterName: cluster, principalArn }));
          return r.accessEntry;
        }),
      "ResourceNotFoundException",
    );
  }

  /** Creates an access entry. */
  async createAccessEntry(input: Sdk.CreateAccessEntryCommandInput): Promise<Sdk.AccessEntry | undefined> {
    return this.runOnce(
      "CreateAccessEntry",
      `access entry ${input.principalArn} of ${input.clusterName}`,
      async (m, c) => (await c.send(new m.CreateAccessEntryCommand(input))).accessEntry,
    );
  }

  /** Deletes an access entry. */
  async deleteAccessEntry(cluster: string, principalArn: string): Promise<void> {
    await this.run("DeleteAccessEntry", `access entry ${principalArn} of ${cluster}`, (m, c) =>
      c.send(new m.DeleteAccessEntryCommand({ clusterName: cluster, principalArn })),
    );
  }

  /** Access policies associated with a principal's entry. */
  listAssociatedAccessPolicies(cluster: string, principalArn: string): Promise<Sdk.AssociatedAccessPolicy[]> {
    return this.run("ListAssociatedAccessPolicies", `access entry ${principalArn} of ${cluster}`, (m, c) =>
      allPages(async (nextToken) => {
        const r = await c.send(
          new m.ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn, nextToken }),
        );
        return { items: r.associatedAccessPolicies, next: r.nextToken };
      }),
    );
  }

  /** Associates an access policy with a principal's entry. */
  async associateAccessPolicy(input: Sdk.AssociateAccessPolicyCommandInput): Promise<void> {
    await this.run(
      "AssociateAccessPolicy",
      `access entry ${input.principalArn} of ${input.clusterName}`,
      (m, c) => c.send(new m.AssociateAccessPolicyCommand(input)),
    );
  }
}
