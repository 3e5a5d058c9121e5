import { describe, expect, it } from "vitest";
import type { Aws } from "../../src/aws/create-aws.js";
import { readingOnce } from "../../src/aws/read-once.js";

// gc's listing goes over every app of a region; the region-wide listings are read once for all.

class FakeEks {
  calls: string[] = [];
  private failNext = false;
  async listClusters(): Promise<string[]> {
    this.calls.push("list");
    return ["kc-a-blue", "kc-b-blue"];
  }
  async describeCluster(name: string): Promise<{ name: string }> {
    this.calls.push(`describe ${name}`);
    if (this.failNext) {
      this.failNext = false;
      throw new Error("throttled");
    }
    return { name };
  }
  async deleteCluster(name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
  }
  failOnce(): void {
    this.failNext = true;
  }
}

function fakeAws(eks: FakeEks): Aws {
  const elbv2 = {
    describeTags: async (arns: string[], _what: string) => new Map(arns.map((a) => [a, []])),
    listLoadBalancers: async () => [],
    listTargetGroups: async () => [],
  };
  return { region: "us-east-1", eks, elbv2 } as unknown as Aws;
}

describe("readingOnce", () => {
  it("reads each listing and each cluster once, whatever the apps asking", async () => {
    const eks = new FakeEks();
    const aws = readingOnce(fakeAws(eks));
    await Promise.all([aws.eks.listClusters(), aws.eks.listClusters()]);
    await aws.eks.describeCluster("kc-a-blue");
    await aws.eks.describeCluster("kc-a-blue");
    await aws.eks.describeCluster("kc-b-blue");
    expect(eks.calls).toEqual(["list", "describe kc-a-blue", "describe kc-b-blue"]);
  });

  it("keys by what is read, not by what the call says it is for", async () => {
    const eks = new FakeEks();
    const base = fakeAws(eks);
    let reads = 0;
    const describeTags = base.elbv2.describeTags.bind(base.elbv2);
    base.elbv2.describeTags = (arns: string[], what: string) => {
      reads++;
      return describeTags(arns, what);
    };
    const aws = readingOnce(base);
    await aws.elbv2.describeTags(["arn:1"], "load balancers of a");
    await aws.elbv2.describeTags(["arn:1"], "load balancers of b");
    expect(reads).toBe(1);
  });

  it("does not keep a failed read, and leaves every other call alone", async () => {
    const eks = new FakeEks();
    const aws = readingOnce(fakeAws(eks));
    eks.failOnce();
    await expect(aws.eks.describeCluster("kc-a-blue")).rejects.toThrow("throttled");
    await aws.eks.describeCluster("kc-a-blue");
    await aws.eks.deleteCluster("kc-a-blue");
    await aws.eks.deleteCluster("kc-a-blue");
    expect(eks.calls).toEqual([
      "describe kc-a-blue",
      "describe kc-a-blue",
      "delete kc-a-blue",
      "delete kc-a-blue",
    ]);
  });
});
