import { DescribeLaunchTemplateVersionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { beforeAll, describe, expect, it } from "vitest";
import { preflightAws } from "../../src/engine/preflight/preflight.js";
import { colourStackSteps } from "../../src/engine/steps/aws/colour-stack.js";
import { shiftDnsStep } from "../../src/engine/steps/aws/shift-dns.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { TAG } from "../../src/plan/aws.js";
import type { DnsRecord } from "../../src/plan/aws-types.js";
import { kubeletRegistrationFromUserData } from "../../src/sandbox/k8s/nodes/user-data.js";
import { destroyPlanSteps } from "../helpers/destroy-plan.js";
import { sdkConfig, type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { inventory, recordMembers, taggedFor } from "./inventory.js";
import { awsCli, failures, PACE, planFor, run, testAws, uniqueWebapp } from "./stack-fixture.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

describe("a colour's AWS stack", () => {
  it("is created with every resource tagged, re-run as a no-op, pointed at by DNS, and torn down to nothing", async () => {
    // Given a fresh copy of the webapp example and its blue plan
    const app = await uniqueWebapp();
    const plan = planFor(app, "blue");
    const t = testAws(sbx);
    await preflightAws(plan, t.aws, app);
    await t.resetCounts();

    // When the colour is created
    const t0 = Date.now();
    const created = await run(colourStackSteps(plan, t.aws, "run-create", { pace: PACE }));
    const createMs = Date.now() - t0;
    expect(failures(created.report)).toEqual([]);
    const createCalls = await t.counts();
    // ...having said what it waited for while the cluster was CREATING
    expect(created.events).toContainEqual(
      expect.objectContaining({
        type: "step.waiting",
        step: "ensure-eks-cluster/main",
        reason: expect.stringContaining("ACTIVE"),
      }),
    );

    // Then the AWS CLI finds every planned resource with the plan's tags and the creating run
    const tInv = Date.now();
    const seen = await inventory(sbx, plan);
    if (process.env.KC_TEST_TIMING) console.log("inventory", Date.now() - tInv);
    for (const r of plan.aws.filter((x) => x.kind !== "route53-record")) {
      expect(seen.get(r.id), r.id).toEqual([
        expect.objectContaining({ ...r.tags, [TAG.createdBy]: "run-create" }),
      ]);
    }
    // ...and the SDK sees nodes that join the cluster with their pool's labels and taints
    const ec2 = new EC2Client(sdkConfig(sbx));
    const worker = plan.aws.find((r) => r.id === "launch-template/worker")!;
    const version = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: worker.name, Versions: ["$Default"] }),
    );
    const registration = kubeletRegistrationFromUserData(
      version.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.UserData,
    );
    expect(registration.labels).toMatchObject({ "kubecontrol.io/pool": "worker", workload: "batch" });
    expect(registration.taints).toEqual([{ key: "workload", value: "batch", effect: "NoSchedule" }]);
    const cluster = await new EKSClient(sdkConfig(sbx)).send(
      new DescribeClusterCommand({ name: plan.cluster }),
    );
    expect(cluster.cluster?.accessConfig?.authenticationMode).toBe("API");
    expect(cluster.cluster?.status).toBe("ACTIVE");

    // When the operator scales a pool and the colour is created again
    const web = plan.aws.find((r) => r.id === "auto-scaling-group/web")!;
    await awsCli(sbx, [
      "autoscaling",
      "set-desired-capacity",
      "--auto-scaling-group-name",
      web.name,
      "--desired-capacity",
      "4",
    ]);
    await t.resetCounts();
    const t1 = Date.now();
    const again = await run(colourStackSteps(plan, t.aws, "run-again", { pace: PACE }));
    const rerunMs = Date.now() - t1;

    // Then nothing changes: no step applied, no mutating call reached AWS, the operator's size stands
    expect(failures(again.report)).toEqual([]);
    expect(again.report.steps.filter((s) => s.changed).map((s) => s.name)).toEqual([]);
    const rerunCalls = await t.counts();
    expect(rerunCalls.mutating).toEqual({});
    const asg = (await awsCli(sbx, [
      "autoscaling",
      "describe-auto-scaling-groups",
      "--auto-scaling-group-names",
      web.name,
    ])) as {
      AutoScalingGroups: { DesiredCapacity: number }[];
    };
    expect(asg.AutoScalingGroups[0]!.DesiredCapacity).toBe(4);
    const described = await new EKSClient(sdkConfig(sbx)).send(
      new DescribeClusterCommand({ name: plan.cluster }),
    );
    expect(described.cluster?.tags?.[TAG.createdBy]).toBe("run-create");

    // When DNS is pointed at the colour (twice: the second is a no-op)
    const record = plan.aws.find((r): r is DnsRecord => r.kind === "route53-record")!;
    const env = { plan, aws: t.aws, runId: "run-dns", pace: PACE };
    expect(failures((await run([shiftDnsStep(record, env, 100)])).report)).toEqual([]);
    const shifted = await run([shiftDnsStep(record, env, 100)]);
    expect(shifted.report.steps[0]?.changed).toBe(false);
    const lb = created.report.results.get("ensure-load-balancer/main") as { dnsName: string };
    expect(await recordMembers(sbx, record)).toEqual([
      { set: record.properties.setIdentifier, weight: 100, value: lb.dnsName },
    ]);

    // When the colour is torn down
    const t2 = Date.now();
    const down = await run(teardownSteps(plan, t.aws, "run-teardown", { pace: PACE }));
    const teardownMs = Date.now() - t2;
    expect(failures(down.report)).toEqual([]);

    // Then nothing is tagged for the colour, no record carries its set identifier, the app's resources stay
    const after = await inventory(sbx, plan);
    expect([...after.keys()].sort()).toEqual(
      plan.aws
        .filter((r) => r.scope === "app")
        .map((r) => r.id)
        .sort(),
    );
    expect(await taggedFor(sbx, app.name, "blue")).toEqual([]);
    expect(await recordMembers(sbx, record)).toEqual([]);

    console.log(
      JSON.stringify({
        createMs,
        createCalls: createCalls.total,
        createMutating: Object.values(createCalls.mutating).reduce((a, b) => a + b, 0),
        rerunMs,
        rerunCalls: rerunCalls.total,
        teardownMs,
      }),
    );

    // Clean up what a destroy would remove
    expect(
      failures((await run(destroyPlanSteps(plan, t.aws, "run-destroy", { pace: PACE }))).report),
    ).toEqual([]);
    expect((await inventory(sbx, plan)).size).toBe(0);
  }, 240_000);
});
