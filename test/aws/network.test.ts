import { CreateSubnetCommand, CreateTagsCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import {
  CreateLoadBalancerCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { beforeAll, describe, expect, it } from "vitest";
import { createAws } from "../../src/aws/create-aws.js";
import { preflightAws } from "../../src/engine/preflight/preflight.js";
import { findNetwork } from "../../src/engine/steps/aws/find-network.js";
import { planApp } from "../../src/plan/plan.js";
import { exampleApp } from "../helpers/apps.js";
import { sdkConfig, type TestSandbox, testAccessKeyId, testSandbox, uniqueName } from "../helpers/sandbox.js";

// Subnets as AWS takes them: a load balancer gets one subnet per zone and an ALB two zones at
// least; an EKS cluster two zones, none where EKS places no control plane (use1-az3 is
// us-east-1e here, as in moto's zone map). kubecontrol chooses one subnet per zone and preflight
// refuses, naming subnets and zones, what AWS would refuse. The sandbox refuses the same.

// role tags of this file's own (other files look for subnets by the usual kubernetes.io/role tags)
const PUBLIC = `kc-test-net/${uniqueName("role")}/public=1`;
const PRIVATE = `kc-test-net/${uniqueName("role")}/private=1`;

let sbx: TestSandbox;
let ec2: EC2Client;

/** A VPC with one subnet per [zone, role] given, tagged; its tag and subnets by label. */
async function vpcWith(subnets: [label: string, zone: string, role: "public" | "private" | "both"][]) {
  const tag = uniqueName("net");
  const octet = Math.floor(Math.random() * 200) + 20;
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${octet}.0.0/16` }))).Vpc!.VpcId!;
  await ec2.send(
    new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: "kubecontrol:vpc", Value: tag }] }),
  );
  const ids: Record<string, string> = {};
  for (const [i, [label, zone, role]] of subnets.entries()) {
    const id = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${octet}.${i}.0/24`, AvailabilityZone: zone }),
      )
    ).Subnet!.SubnetId!;
    const tags = [...(role !== "private" ? [PUBLIC] : []), ...(role !== "public" ? [PRIVATE] : [])].map(
      (t) => ({ Key: t.split("=")[0], Value: "1" }),
    );
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags }));
    ids[label] = id;
  }
  const network = {
    vpc: { tag: `kubecontrol:vpc=${tag}` },
    publicSubnetTag: PUBLIC,
    privateSubnetTag: PRIVATE,
  };
  return { vpcId, network, ids };
}

const aws = () =>
  createAws({
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
  });

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  ec2 = new EC2Client(sdkConfig(sbx));
});

describe("the subnets a colour is given", () => {
  it("are one per zone, and the cluster's leave out zones EKS does not serve and subnets given twice", async () => {
    const { network, ids } = await vpcWith([
      ["pubA1", "us-east-1a", "public"],
      ["pubA2", "us-east-1a", "public"],
      ["pubB", "us-east-1b", "public"],
      ["privA", "us-east-1a", "private"],
      ["privB", "us-east-1b", "both"],
      ["privE", "us-east-1e", "private"],
    ]);
    const net = await findNetwork(aws(), network);
    // one public subnet in zone a (of two) and one in zone b (pubB, or privB tagged for both)
    expect(net.publicSubnets).toHaveLength(2);
    expect(net.publicSubnets.filter((s) => s === ids.pubA1 || s === ids.pubA2)).toHaveLength(1);
    expect(net.publicSubnets.filter((s) => s === ids.pubB || s === ids.privB)).toHaveLength(1);
    expect(net.privateSubnets.sort()).toEqual([ids.privA, ids.privB, ids.privE].sort());
    expect(net.clusterSubnets).not.toContain(ids.privE);
    expect(net.clusterSubnets.filter((s) => s === ids.privB)).toHaveLength(1);
    expect(net.problems).toEqual([]);
  });

  it("in one zone only are refused by preflight (exit 5), naming the subnets and the zone", async () => {
    const { network, ids } = await vpcWith([
      ["pubA", "us-east-1a", "public"],
      ["privA", "us-east-1a", "private"],
      ["privB", "us-east-1b", "private"],
    ]);
    const hello = await exampleApp("hello");
    const planned = planApp({ app: { ...hello, network }, colour: "blue", version: "preflight" });
    const plan = { ...planned, network: { ...planned.network, ...network } };
    const refused = await preflightAws(plan, aws()).catch((err: unknown) => err as Error & { code: string });
    expect(refused).toMatchObject({ code: "PREFLIGHT_FAILED" });
    expect(String((refused as Error).message)).toContain(
      `public subnets (${PUBLIC}) in one Availability Zone only: ${ids.pubA} (us-east-1a`,
    );
  });
});

describe("the sandbox, as AWS", () => {
  it("refuses a load balancer with two subnets in one zone, or an ALB in one zone", async () => {
    const { ids } = await vpcWith([
      ["a1", "us-east-1a", "public"],
      ["a2", "us-east-1a", "public"],
    ]);
    const elb = new ElasticLoadBalancingV2Client(sdkConfig(sbx));
    const create = (subnets: string[]) =>
      elb
        .send(new CreateLoadBalancerCommand({ Name: uniqueName("lb"), Subnets: subnets }))
        .catch((e: Error) => e);
    expect(String(await create([ids.a1!, ids.a2!]))).toMatch(
      /multiple subnets in the same Availability Zone/,
    );
    expect(String(await create([ids.a1!]))).toMatch(/two different Availability Zones/);
  });

  it("refuses a cluster in a zone EKS does not serve, or in one zone", async () => {
    const { ids } = await vpcWith([
      ["a", "us-east-1a", "private"],
      ["a2", "us-east-1a", "private"],
      ["e", "us-east-1e", "private"],
    ]);
    const eks = new EKSClient(sdkConfig(sbx));
    const create = (subnetIds: string[]) =>
      eks
        .send(
          new CreateClusterCommand({
            name: uniqueName("kc-net"),
            roleArn: "arn:aws:iam::123456789012:role/kc-test-eks",
            resourcesVpcConfig: { subnetIds },
          }),
        )
        .catch((e: Error) => e);
    const unserved = await create([ids.a!, ids.e!]);
    expect((unserved as Error).name).toBe("UnsupportedAvailabilityZoneException");
    expect(String(unserved)).toContain("us-east-1e");
    expect(String(await create([ids.a!, ids.a2!]))).toMatch(/at least two different AZs/);
  });
});
