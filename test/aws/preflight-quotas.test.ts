import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeScalingActivitiesCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toAwsError } from "../../src/aws/errors.js";
import { preflightAws } from "../../src/engine/preflight/preflight.js";
import { scalingEvidence } from "../../src/engine/steps/kube/wait-for-nodes.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { sandboxDown } from "../../src/sandbox/lifecycle.js";
import { codedError } from "../helpers/errors.js";
import { sandboxAt, sdkConfig, type TestSandbox, uniqueName } from "../helpers/sandbox.js";
import { planFor, testAws, uniqueWebapp } from "./stack-fixture.js";

// A lowered quota applies to the whole account: this file runs AWS alone in a sandbox of its own,
// so no other test's preflight meets it.
const dir = mkdtempSync(path.join(tmpdir(), "kc-quotas-"));
let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await sandboxAt(dir, ["moto", "proxy"]);
}, 120_000);

afterAll(async () => {
  await sandboxDown(dir);
  rmSync(dir, { recursive: true, force: true });
});

const setQuotas = (quotas: Record<string, number | null>) =>
  adminCall(`${sbx.motoUrl}/_sandbox/config`, { body: { quotas } });

afterEach(async () => {
  await setQuotas({ "L-53DA6B97": null, "L-1216C47A": null, "L-34B43A08": null, "L-1194D53C": null });
});

const preflightError = codedError;

async function publicSubnets(): Promise<string[]> {
  const ec2 = new EC2Client(sdkConfig(sbx));
  const r = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "tag:kubernetes.io/role/elb", Values: ["1"] }] }),
  );
  return r.Subnets!.map((s) => s.SubnetId!);
}

describe("preflight reads the quotas a deployment would reach", () => {
  it("refuses when the Application Load Balancer quota is reached, naming it, and changes nothing", async () => {
    // Given an account whose ALB quota is 1 and that already has one ALB (another app's)
    const elb = new ElasticLoadBalancingV2Client(sdkConfig(sbx));
    await elb.send(
      new CreateLoadBalancerCommand({ Name: uniqueName("other"), Subnets: await publicSubnets() }),
    );
    await setQuotas({ "L-53DA6B97": 1 });
    const app = await uniqueWebapp();
    const t = testAws(sbx);

    // When preflight runs for a new colour with a load balancer
    const err = await preflightError(() => preflightAws(planFor(app), t.aws, app));

    // Then it refuses, naming the quota, its limit, what is in use and what is needed
    expect(err.code).toBe("PREFLIGHT_FAILED");
    expect(err.message).toContain(
      "Application Load Balancers per Region (elasticloadbalancing L-53DA6B97): limit 1, in use 1, this deployment needs 1 more",
    );
    expect(err.hint).toContain("--quota-code L-53DA6B97 --desired-value 2");
    expect((await t.counts()).mutating).toEqual({});
  });

  it("counts both colours during an update: the standing colour needs nothing, the new one is counted on top", async () => {
    // Given an app whose blue colour's load balancer stands, and an ALB quota of what is in use
    const app = await uniqueWebapp();
    const blue = planFor(app, "blue");
    const lbName = blue.aws.find((r) => r.kind === "load-balancer")!.name;
    const elb = new ElasticLoadBalancingV2Client(sdkConfig(sbx));
    await elb.send(new CreateLoadBalancerCommand({ Name: lbName, Subnets: await publicSubnets() }));
    const t = testAws(sbx);
    const inUse = (await t.aws.elbv2.listLoadBalancers()).filter((lb) => lb.Type === "application").length;
    await setQuotas({ "L-53DA6B97": inUse });

    // When preflight runs for blue (a re-run) and for green (the update's new colour)
    const report = await preflightAws(blue, t.aws, app);
    const err = await preflightError(() => preflightAws(planFor(app, "green"), t.aws, app));

    // Then blue needs no load balancer, and green's is counted on top of blue's
    expect(report.quotas.find((q) => q.key === "alb")).toBeUndefined();
    expect(err.message).toContain(
      `(elasticloadbalancing L-53DA6B97): limit ${inUse}, in use ${inUse}, this deployment needs 1 more`,
    );
  });

  it("refuses when the pools' on-demand and spot vCPUs would pass their quotas", async () => {
    // Given vCPU quotas lower than webapp's pools need (4 on-demand, 10 spot vCPUs at desired capacity)
    await setQuotas({ "L-1216C47A": 3, "L-34B43A08": 9 });
    const app = await uniqueWebapp();
    const t = testAws(sbx);

    // When preflight runs
    const err = await preflightError(() => preflightAws(planFor(app), t.aws, app));

    // Then both quotas are named with the vCPUs needed
    expect(err.message).toMatch(/\(ec2 L-1216C47A\): limit 3, in use \d+, this deployment needs 4 more/);
    expect(err.message).toMatch(/\(ec2 L-34B43A08\): limit 9, in use \d+, this deployment needs 10 more/);
    expect((await t.counts()).mutating).toEqual({});
  });

  it("passes with the sandbox's default quotas, reporting what it weighed", async () => {
    const app = await uniqueWebapp();
    const report = await preflightAws(planFor(app), testAws(sbx).aws, app);
    expect(report.quotas.map((q) => [q.key, q.needed])).toEqual([
      ["alb", 1],
      ["clusters", 1],
      ["onDemandVcpus", 4],
      ["spotVcpus", 10],
    ]);
    expect(report.quotas.find((q) => q.key === "alb")!.limit).toBe(50);
  });
});

describe("a caller that may not read Service Quotas", () => {
  it("is not refused: each quota is skipped with a warning naming it and what it would need", async () => {
    // Given credentials without servicequotas:GetServiceQuota (the proxy cannot answer
    // AccessDenied, so the quota client alone is replaced, and throws as the SDK would)
    await setQuotas({ "L-1216C47A": 0 });
    const app = await uniqueWebapp();
    const t = testAws(sbx);
    const denied = Object.assign(
      new Error("User is not authorized to perform servicequotas:GetServiceQuota"),
      {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 400 },
      },
    );
    t.aws.quotas.quota = async () => {
      throw toAwsError(denied, "servicequotas", "GetServiceQuota", "quota");
    };
    const events: KubecontrolEvent[] = [];

    // When preflight runs
    const report = await preflightAws(planFor(app), t.aws, app, (e) => events.push(e));

    // Then it passes, and says which quotas it could not check
    expect(report.quotas).toEqual([]);
    expect(report.notes).toHaveLength(4);
    const warnings = events.flatMap((e) => (e.type === "log" && e.level === "warn" ? [e.message] : []));
    expect(warnings).toContainEqual(
      expect.stringMatching(/^quota ec2 L-1216C47A .* not checked: .* needs 4 more$/),
    );
  });
});

describe("an Auto Scaling launch past the vCPU quota", () => {
  it("fails as a scaling activity with EC2's message, which the node wait's evidence shows", async () => {
    // Given an on-demand vCPU quota that leaves no room
    const t = testAws(sbx);
    await setQuotas({ "L-1216C47A": 0 });
    const ec2 = new EC2Client(sdkConfig(sbx));
    const name = uniqueName("kc-quota");
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: { ImageId: "ami-12c6146b", InstanceType: "c6i.xlarge" },
      }),
    );
    const asg = new AutoScalingClient(sdkConfig(sbx));

    // When a group asks for an instance
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateName: name },
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        VPCZoneIdentifier: (await publicSubnets())[0],
      }),
    );

    // Then the launch failed as on AWS, and the evidence names why
    const activities = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name })))
      .Activities!;
    expect(activities.map((a) => a.StatusCode)).toEqual(["Failed"]);
    expect(activities[0]!.StatusMessage).toContain("more vCPU capacity than your current vCPU limit of 0");
    const evidence = await scalingEvidence(t.aws, [name]);
    expect(evidence).toContain(`group ${name}: Failed: You have requested more vCPU capacity`);
  });
});
