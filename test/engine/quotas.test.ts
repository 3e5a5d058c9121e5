import { describe, expect, it } from "vitest";
import {
  exceeded,
  isStandardType,
  needs,
  type RegionUsage,
  usage,
  vcpuClass,
} from "../../src/engine/preflight/quotas.js";
import { planApp } from "../../src/plan/plan.js";
import { planFor, uniqueWebapp } from "../aws/stack-fixture.js";
import { baseSpec, resolved } from "../helpers/apps.js";

// The arithmetic of preflight's quota check: what is in use, what a colour adds, what passes.

const VCPUS = new Map([
  ["m6i.large", 2],
  ["m5.large", 2],
  ["c6i.xlarge", 4],
  ["c5.xlarge", 4],
  ["g5.xlarge", 4],
]);
const EMPTY: RegionUsage = { clusters: [], loadBalancers: [], instances: [] };

describe("quota arithmetic", () => {
  it("a new colour of webapp needs a cluster, an ALB, and its pools' vCPUs at desired capacity", async () => {
    // web: desired 3, on-demand base 1 + 25 % of 2 rounded up = 2 on-demand (m6i.large) + 1 spot;
    // worker: desired 2, all spot (c6i.xlarge or c5.xlarge, 4 vCPUs)
    const plan = planFor(await uniqueWebapp());
    expect(needs(plan, EMPTY, VCPUS)).toMatchObject({
      alb: 1,
      nlb: 0,
      clusters: 1,
      onDemandVcpus: 4,
      spotVcpus: 10,
    });
  });

  it("what the colour already has is not needed again", async () => {
    const plan = planFor(await uniqueWebapp());
    const name = (kind: string) => plan.aws.find((r) => r.kind === kind)!.name;
    const worker = plan.aws.find(
      (r) => r.kind === "auto-scaling-group" && r.properties.pool === "worker",
    )!.name;
    const standing: RegionUsage = {
      clusters: [name("eks-cluster")],
      loadBalancers: [{ name: name("load-balancer"), type: "application" }],
      instances: [{ type: "c5.xlarge", spot: true, group: worker }],
    };
    expect(needs(plan, standing, VCPUS)).toMatchObject({
      alb: 0,
      nlb: 0,
      clusters: 0,
      onDemandVcpus: 4,
      spotVcpus: 6,
    });
  });

  it("counts only standard families against the standard vCPU quotas", () => {
    expect(
      ["m6i.large", "c7g.xlarge", "r5.2xlarge", "t3.micro", "i4i.large", "z1d.large"].every(isStandardType),
    ).toBe(true);
    expect(
      ["g5.xlarge", "p4d.24xlarge", "inf2.xlarge", "trn1.2xlarge", "x2idn.16xlarge", "hpc7g.4xlarge"].some(
        isStandardType,
      ),
    ).toBe(false);
    const inUse = usage(
      {
        ...EMPTY,
        instances: [
          { type: "m5.large", spot: false, group: undefined },
          { type: "g5.xlarge", spot: false, group: undefined },
          { type: "c5.xlarge", spot: true, group: undefined },
        ],
      },
      VCPUS,
    );
    expect(inUse).toMatchObject({ onDemandVcpus: 2, spotVcpus: 4 });
  });

  it("refuses only what needs more than the limit leaves; a quota already passed with nothing to add is no refusal", () => {
    expect(
      exceeded([
        { key: "alb", limit: 50, inUse: 49, needed: 1 },
        { key: "nlb", limit: 50, inUse: 50, needed: 1 },
        { key: "clusters", limit: 2, inUse: 3, needed: 0 },
        { key: "onDemandVcpus", limit: 32, inUse: 30, needed: 4 },
      ]).map((u) => u.key),
    ).toEqual(["nlb", "onDemandVcpus"]);
  });

  it("counts accelerated pools against their own class's quotas: G and VT, P, Inf, Trn", () => {
    expect(
      [
        "g5.xlarge",
        "gr6.4xlarge",
        "g4ad.xlarge",
        "vt1.3xlarge",
        "p4d.24xlarge",
        "inf2.xlarge",
        "trn1n.32xlarge",
      ].map(vcpuClass),
    ).toEqual(["gvt", "gvt", "gvt", "gvt", "p", "inf", "trn"]);
    expect(["x2idn.16xlarge", "hpc7g.4xlarge", "dl1.24xlarge", "f1.2xlarge"].map(vcpuClass)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const app = resolved(
      baseSpec({ hardware: { web: { instanceTypes: ["g5.xlarge"], min: 2, max: 2 } } as never }),
    );
    const plan = planApp({ app, colour: "blue", version: "v" });
    const needed = needs(plan, EMPTY, VCPUS);
    expect(needed).toMatchObject({ gvtOnDemandVcpus: 8, onDemandVcpus: 0, spotVcpus: 0 });
    const inUse = usage(
      { ...EMPTY, instances: [{ type: "g5.xlarge", spot: true, group: undefined }] },
      VCPUS,
    );
    expect(inUse).toMatchObject({ gvtSpotVcpus: 4, spotVcpus: 0 });
  });
});
