import { describe, expect, it } from "vitest";
import { createAws } from "../../src/aws/create-aws.js";
import { validateGraph } from "../../src/engine/runner.js";
import { colourStackSteps } from "../../src/engine/steps/aws/colour-stack.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { nodeUserData } from "../../src/plan/node-user-data.js";
import { kubeletRegistrationFromUserData } from "../../src/sandbox/k8s/nodes/user-data.js";
import { exampleApp } from "../helpers/apps.js";
import { destroyPlanSteps } from "../helpers/destroy-plan.js";
import { planFor } from "./stack-fixture.js";

// Building graphs makes no AWS call: the clients load their SDK packages on first use only.
const aws = createAws({ region: "us-east-1" });

describe("a colour's step graph", () => {
  it("waits only for what each resource uses and leaves DNS to its own step", async () => {
    const steps = colourStackSteps(planFor(await exampleApp("webapp")), aws, "run");
    validateGraph(steps);
    const deps = new Map(steps.map((s) => [s.name, s.dependsOn ?? []]));
    expect([...deps.keys()].some((n) => n.includes("route53"))).toBe(false);
    expect(deps.get("ensure-ecr-repository/app")).toEqual([]);
    expect(deps.get("ensure-iam-role/cluster")).toEqual([]);
    expect(deps.get("ensure-target-group/web")).toEqual(["find-network"]);
    expect(deps.get("ensure-auto-scaling-group/web")).toEqual(
      expect.arrayContaining([
        "ensure-launch-template/web",
        "ensure-eks-access-entry/node",
        "ensure-target-group/web",
      ]),
    );
    expect(deps.get("ensure-security-group-rules/nodes")).toEqual(
      expect.arrayContaining(["ensure-security-group/cluster", "ensure-security-group/lb"]),
    );
  });
});

describe("a colour's teardown graph", () => {
  it("deletes in reverse dependency order, the record first, and keeps app-scoped resources unless destroying", async () => {
    const plan = planFor(await exampleApp("webapp"));
    const steps = teardownSteps(plan, aws, "run");
    validateGraph(steps);
    const deps = new Map(steps.map((s) => [s.name, s.dependsOn ?? []]));
    expect(deps.get("delete-load-balancer/main")).toEqual(
      expect.arrayContaining(["delete-route53-record/main", "delete-listener/443", "delete-listener/80"]),
    );
    expect(deps.get("delete-target-group/web")).toEqual(
      expect.arrayContaining(["delete-listener/443", "delete-auto-scaling-group/web"]),
    );
    expect(deps.get("delete-eks-cluster/main")).toEqual(
      expect.arrayContaining(["delete-launch-template/web", "delete-eks-access-entry/node"]),
    );
    expect(deps.get("delete-security-group/cluster")).toEqual(
      expect.arrayContaining(["delete-eks-cluster/main", "delete-security-group-rules/nodes"]),
    );
    expect([...deps.keys()].filter((n) => /iam|ecr/.test(n))).toEqual([]);
    const destroy = destroyPlanSteps(plan, aws, "run").map((s) => s.name);
    expect(destroy).toEqual(expect.arrayContaining(["delete-ecr-repository/app", "delete-iam-role/node"]));
  });
});

describe("node user data", () => {
  it("is the AL2023 NodeConfig the node simulator reads the pool's labels and taints from", () => {
    const data = nodeUserData({
      clusterName: "kc-webapp-blue",
      endpoint: "https://127.0.0.1:6443",
      certificateAuthority: "Q0E=",
      serviceCidr: "10.100.0.0/16",
      labels: { "kubecontrol.io/pool": "worker", workload: "batch" },
      taints: [
        { key: "workload", value: "batch", effect: "NoSchedule" },
        { key: "dedicated", effect: "NoExecute" },
      ],
    });
    const text = Buffer.from(data, "base64").toString("utf8");
    expect(text).toContain("Content-Type: application/node.eks.aws");
    expect(text).toContain("kind: NodeConfig");
    expect(text).toContain("apiServerEndpoint: https://127.0.0.1:6443");
    expect(kubeletRegistrationFromUserData(data)).toEqual({
      labels: { "kubecontrol.io/pool": "worker", workload: "batch" },
      taints: [
        { key: "workload", value: "batch", effect: "NoSchedule" },
        { key: "dedicated", effect: "NoExecute" },
      ],
    });
    // Same inputs, same bytes: a re-run must not see a change.
    expect(
      nodeUserData({
        clusterName: "kc-webapp-blue",
        endpoint: "https://127.0.0.1:6443",
        certificateAuthority: "Q0E=",
        serviceCidr: "10.100.0.0/16",
        labels: { workload: "batch", "kubecontrol.io/pool": "worker" },
        taints: [
          { key: "workload", value: "batch", effect: "NoSchedule" },
          { key: "dedicated", effect: "NoExecute" },
        ],
      }),
    ).toBe(data);
  });
});
