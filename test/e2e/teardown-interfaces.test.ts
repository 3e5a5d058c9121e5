import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// Teardown finishes when network interfaces hold the colour's security groups, as they do on AWS:
// the VPC CNI leaks interfaces (available, tagged with the cluster's name) that hold the nodes'
// group, and a load balancer's interfaces linger for minutes after it is deleted. The colour's
// own leaked interfaces are removed, anything else is waited out, and another cluster's are
// never touched.

// biome-ignore lint/suspicious/noExplicitAny: the AWS CLI's JSON, read field by field
type Json = any;

let own: E2eProject;
let other: E2eProject;
const made: string[] = [];

beforeAll(async () => {
  [own, other] = await Promise.all([e2eProject("eni"), e2eProject("eni")]);
  const created = await Promise.all([own, other].map((p) => p.kubecontrol(["create", p.app, "--yes"])));
  for (const c of created) expect(c.status, c.stderr).toBe(0);
}, 400_000);

afterAll(async () => {
  // What the tests made first: an interface left in a group would hold up the cleanup's teardown.
  for (const id of made)
    await awsCli(own.sbx, ["ec2", "delete-network-interface", "--network-interface-id", id]).catch(() => {});
  await Promise.all([own?.cleanup(), other?.cleanup()]);
}, 240_000);

const cli = (p: E2eProject, args: string[]) => awsCli(p.sbx, args) as Promise<Json>;

async function groupId(p: E2eProject, name: string): Promise<string | undefined> {
  const out = await cli(p, [
    "ec2",
    "describe-security-groups",
    "--filters",
    `Name=group-name,Values=${name}`,
  ]);
  return out.SecurityGroups[0]?.GroupId;
}

/** A network interface in `group` (attached to nothing: status available), made by hand as another tool would. */
async function networkInterface(
  p: E2eProject,
  group: string,
  description: string,
  tags: Record<string, string> = {},
): Promise<string> {
  const subnets = await cli(p, [
    "ec2",
    "describe-subnets",
    "--filters",
    "Name=tag:kubernetes.io/role/internal-elb,Values=1",
  ]);
  const spec = Object.keys(tags).length
    ? [
        "--tag-specifications",
        `ResourceType=network-interface,Tags=[${Object.entries(tags)
          .map(([k, v]) => `{Key=${k},Value=${v}}`)
          .join(",")}]`,
      ]
    : [];
  const out = await cli(p, [
    "ec2",
    "create-network-interface",
    "--subnet-id",
    subnets.Subnets[0].SubnetId,
    "--groups",
    group,
    "--description",
    description,
    ...spec,
  ]);
  made.push(out.NetworkInterface.NetworkInterfaceId);
  return out.NetworkInterface.NetworkInterfaceId;
}

/** An interface the VPC CNI of `cluster` leaked: available, with the tags the CNI gives it. */
const leaked = (p: E2eProject, group: string, cluster: string) =>
  networkInterface(p, group, "aws-K8S-i-0123456789abcdef0", {
    "cluster.k8s.amazonaws.com/name": cluster,
    "node.k8s.amazonaws.com/instance_id": "i-0123456789abcdef0",
  });

async function interfaceExists(p: E2eProject, id: string): Promise<boolean> {
  const out = await cli(p, [
    "ec2",
    "describe-network-interfaces",
    "--filters",
    `Name=network-interface-id,Values=${id}`,
  ]);
  return out.NetworkInterfaces.length > 0;
}

/** Teardown of the blue colour as a real process, ended if it runs past 150 s (the fix waits seconds). */
const teardown = (p: E2eProject, wait: string, onStderr?: (text: string) => void) =>
  spawnCli(["teardown", p.app, "--colour", "blue", "--force", "--yes"], {
    cwd: p.root,
    env: { ...p.env, KUBECONTROL_INTERFACE_WAIT: wait },
    accessKeyId: testAccessKeyId(),
    timeoutMs: 150_000,
    ...(onStderr ? { onStderr } : {}),
  }).done;

describe("teardown with network interfaces holding the colour's security groups", () => {
  it("removes the cluster's own leaked interfaces and waits out a load balancer's lingering ones", async () => {
    // given an interface the colour's VPC CNI leaked into the nodes' group, and a load
    // balancer's interface that lingers in the load balancer's group
    const nodes = (await groupId(own, `kc-${own.app}-blue-nodes`))!;
    const lb = (await groupId(own, `kc-${own.app}-blue-lb`))!;
    const ours = await leaked(own, nodes, `kc-${own.app}-blue`);
    const lingering = await networkInterface(own, lb, `ELB app/kc-${own.app}-blue/50dc6c495c0c9188`);

    // when the colour is torn down, and the load balancer's interface goes once teardown waits on it
    let released: Promise<unknown> | undefined;
    const done = await teardown(own, "2m", (text) => {
      if (!released && text.includes(`still waiting for`) && text.includes(lingering))
        released = awsCli(own.sbx, ["ec2", "delete-network-interface", "--network-interface-id", lingering]);
    });
    await released;

    // then it finishes, having said what it waited for and removed the leaked interface
    expect(done.status, done.stderr).toBe(0);
    expect(released, "teardown never said it waited for the load balancer's interface").toBeDefined();
    expect(done.stderr).toContain(`ELB app/kc-${own.app}-blue/50dc6c495c0c9188`);
    expect(done.stderr).toMatch(new RegExp(`deleted network interface ${ours} .*kc-${own.app}-blue`));
    expect(await interfaceExists(own, ours)).toBe(false);
    // and both groups are gone
    expect(await groupId(own, `kc-${own.app}-blue-nodes`)).toBeUndefined();
    expect(await groupId(own, `kc-${own.app}-blue-lb`)).toBeUndefined();
  }, 200_000);

  it("never deletes an interface another cluster's VPC CNI leaked: teardown stops, naming it and what to do", async () => {
    // given, in the nodes' group, an interface of this colour's cluster and one of another cluster
    const nodes = (await groupId(other, `kc-${other.app}-blue-nodes`))!;
    const ours = await leaked(other, nodes, `kc-${other.app}-blue`);
    const theirs = await leaked(other, nodes, `kc-${other.app}-elsewhere`);

    // when the colour is torn down with a short wait for the interfaces
    const failed = await teardown(other, "5s");

    // then it fails (exit 6) on the nodes' group, naming the interface that holds it, its
    // cluster, and what to do
    expect(failed.status, failed.stderr).toBe(6);
    expect(failed.stderr).toMatch(
      new RegExp(`security group kc-${other.app}-blue-nodes is still used by network interface ${theirs}`),
    );
    expect(failed.stderr).toContain(`cluster.k8s.amazonaws.com/name=kc-${other.app}-elsewhere`);
    expect(failed.stderr).toMatch(/aws ec2 describe-network-interfaces --filters Name=group-id,Values=sg-/);
    // and the other cluster's interface is still there, the colour's own is gone, the group stays
    expect(await interfaceExists(other, theirs)).toBe(true);
    expect(await interfaceExists(other, ours)).toBe(false);
    expect(await groupId(other, `kc-${other.app}-blue-nodes`)).toBe(nodes);

    // and once its owner removes it, the same teardown finishes
    await awsCli(other.sbx, ["ec2", "delete-network-interface", "--network-interface-id", theirs]);
    const again = await teardown(other, "5s");
    expect(again.status, again.stderr).toBe(0);
    expect(await groupId(other, `kc-${other.app}-blue-nodes`)).toBeUndefined();
  }, 300_000);
});
