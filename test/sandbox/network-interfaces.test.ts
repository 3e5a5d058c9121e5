import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

// Network interfaces hold their security groups, as on AWS: a group an interface uses (attached
// or not) cannot be deleted, an attached interface cannot be deleted, and the interfaces an
// instance was launched with go with it.

let sbx: TestSandbox;
let ec2: EC2Client;
let vpcId: string;
let subnetId: string;
const made: { groups: string[]; interfaces: string[]; instances: string[] } = {
  groups: [],
  interfaces: [],
  instances: [],
};

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  ec2 = new EC2Client(sdkConfig(sbx));
  const subnets = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "tag:kubernetes.io/role/internal-elb", Values: ["1"] }] }),
  );
  subnetId = subnets.Subnets![0]!.SubnetId!;
  vpcId = subnets.Subnets![0]!.VpcId!;
});

afterAll(async () => {
  if (made.instances.length) await ec2.send(new TerminateInstancesCommand({ InstanceIds: made.instances }));
  for (const id of made.interfaces)
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })).catch(() => {});
  for (const id of made.groups)
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })).catch(() => {});
});

async function group(): Promise<string> {
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: uniqueName("kc-test-eni"),
      Description: "test",
      VpcId: vpcId,
    }),
  );
  made.groups.push(GroupId!);
  return GroupId!;
}

async function networkInterface(groupId: string): Promise<string> {
  const { NetworkInterface } = await ec2.send(
    new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [groupId], Description: "leaked" }),
  );
  made.interfaces.push(NetworkInterface!.NetworkInterfaceId!);
  return NetworkInterface!.NetworkInterfaceId!;
}

const groupExists = async (id: string) =>
  (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: [id] }] })))
    .SecurityGroups!.length > 0;

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (err: { name?: string }) => err.name,
  );

describe("network interfaces and security groups", () => {
  it("DeleteSecurityGroup answers DependencyViolation while an available interface uses the group", async () => {
    // given a group used by an interface that is attached to nothing (status available)
    const id = await group();
    const eni = await networkInterface(id);
    const { NetworkInterfaces } = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }),
    );
    expect(NetworkInterfaces![0]!.Status).toBe("available");

    // when the group is deleted, then AWS's answer, and the group stays
    expect(await errorCode(ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))).toBe(
      "DependencyViolation",
    );
    expect(await groupExists(id)).toBe(true);

    // and once the interface is gone, the group can go
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }));
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    expect(await groupExists(id)).toBe(false);
  });

  it("an attached interface cannot be deleted (InvalidNetworkInterface.InUse)", async () => {
    // given an interface attached to a running instance
    const id = await group();
    const eni = await networkInterface(id);
    const { Instances } = await ec2.send(
      new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
    );
    const instance = Instances![0]!.InstanceId!;
    made.instances.push(instance);
    await ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni, InstanceId: instance, DeviceIndex: 1 }),
    );

    // when it is deleted, then AWS's answer, and it is still there
    expect(await errorCode(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni })))).toBe(
      "InvalidNetworkInterface.InUse",
    );
    const { NetworkInterfaces } = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }),
    );
    expect(NetworkInterfaces![0]!.Status).toBe("in-use");

    // and once the instance is terminated, it is detached (available) and holds the group until deleted
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    const after = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }));
    expect(after.NetworkInterfaces![0]!.Status).toBe("available");
    expect(await errorCode(ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))).toBe(
      "DependencyViolation",
    );
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }));
  });

  it("the interfaces an instance was launched with go with it, so its groups can be deleted", async () => {
    // given an instance launched in a group (its primary interface uses the group)
    const id = await group();
    const { Instances } = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        SecurityGroupIds: [id],
      }),
    );
    const instance = Instances![0]!.InstanceId!;
    made.instances.push(instance);
    const held = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "group-id", Values: [id] }] }),
    );
    expect(held.NetworkInterfaces!.map((n) => n.Status)).toEqual(["in-use"]);
    expect(await errorCode(ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))).toBe(
      "DependencyViolation",
    );

    // when it is terminated (twice, as AWS allows)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));

    // then its interface is gone and the group can be deleted
    const left = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "group-id", Values: [id] }] }),
    );
    expect(left.NetworkInterfaces).toEqual([]);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    expect(await groupExists(id)).toBe(false);
  });
});
