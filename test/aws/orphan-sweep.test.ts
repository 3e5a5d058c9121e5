import { beforeAll, describe, expect, it } from "vitest";
import { colourStackSteps } from "../../src/engine/steps/aws/colour-stack.js";
import { findOrphans, orphanDeletionSteps } from "../../src/engine/steps/aws/orphan-sweep.js";
import { shiftDnsStep } from "../../src/engine/steps/aws/shift-dns.js";
import type { DnsRecord } from "../../src/plan/aws-types.js";
import { destroyPlanSteps } from "../helpers/destroy-plan.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { inventory } from "./inventory.js";
import { awsCli, failures, PACE, planFor, run, testAws, uniqueWebapp } from "./stack-fixture.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

describe("the orphan sweep", () => {
  it("lists what no live colour owns, changes nothing until asked, then deletes it and keeps the app's resources", async () => {
    // Given a blue colour with DNS pointed at it
    const app = await uniqueWebapp();
    const blue = planFor(app, "blue");
    const green = planFor(app, "green");
    const t = testAws(sbx);
    expect(failures((await run(colourStackSteps(blue, t.aws, "run-blue", { pace: PACE }))).report)).toEqual(
      [],
    );
    const record = blue.aws.find((r): r is DnsRecord => r.kind === "route53-record")!;
    const env = { plan: blue, aws: t.aws, runId: "run-dns", pace: PACE };
    expect(failures((await run([shiftDnsStep(record, env, 100)])).report)).toEqual([]);

    // When blue is live, nothing is an orphan
    expect(await findOrphans(t.aws, { app: app.name, livePlans: [blue], record })).toEqual([]);

    // When only green is live, every blue resource is one, and listing them changed nothing
    await t.resetCounts();
    const orphans = await findOrphans(t.aws, { app: app.name, livePlans: [green], record });
    expect((await t.counts()).mutating).toEqual({});
    const expected = blue.aws
      .filter((r) => r.scope === "colour" && !["listener", "eks-access-entry"].includes(r.kind))
      .map((r) => `${r.kind}:${r.kind === "route53-record" ? record.properties.setIdentifier : r.name}`)
      .sort();
    expect(orphans.map((o) => `${o.kind}:${o.name}`).sort()).toEqual(expected);
    expect(new Set(orphans.map((o) => o.colour))).toEqual(new Set(["blue"]));

    // When asked to delete them
    const swept = await run(
      orphanDeletionSteps(t.aws, orphans, { app: app.name, livePlans: [green], record }, { pace: PACE }),
    );
    expect(failures(swept.report)).toEqual([]);

    // Then none is left and the app-scoped resources stay
    expect(await findOrphans(t.aws, { app: app.name, livePlans: [], record })).toEqual([]);
    const left = await inventory(sbx, blue);
    expect([...left.keys()].sort()).toEqual(
      blue.aws
        .filter((r) => r.scope === "app")
        .map((r) => r.id)
        .sort(),
    );

    // Clean up what a destroy would remove
    expect(
      failures((await run(destroyPlanSteps(blue, t.aws, "run-destroy", { pace: PACE }))).report),
    ).toEqual([]);
  }, 240_000);

  it("never takes another app's weighted record for one of its colours", async () => {
    // given a record set member of app <name>-x (set identifier kc-<name>-x-blue) under this app's record
    const app = await uniqueWebapp();
    const blue = planFor(app, "blue");
    const record = blue.aws.find((r): r is DnsRecord => r.kind === "route53-record")!;
    const zones = (await awsCli(sbx, ["route53", "list-hosted-zones"])) as {
      HostedZones: { Id: string; Name: string }[];
    };
    const zone = zones.HostedZones.find((z) => z.Name === `${record.properties.zone}.`)!;
    const member = (weight: number) =>
      JSON.stringify({
        Changes: [
          {
            Action: weight < 0 ? "DELETE" : "UPSERT",
            ResourceRecordSet: {
              Name: record.properties.record,
              Type: "CNAME",
              SetIdentifier: `kc-${app.name}-x-blue`,
              Weight: Math.max(weight, 0),
              TTL: 60,
              ResourceRecords: [{ Value: "lb.example.com" }],
            },
          },
        ],
      });
    await awsCli(sbx, [
      "route53",
      "change-resource-record-sets",
      "--hosted-zone-id",
      zone.Id,
      "--change-batch",
      member(0),
    ]);
    try {
      // when this app's orphans are looked for, with no live colour
      const orphans = await findOrphans(testAws(sbx).aws, { app: app.name, livePlans: [], record });
      // then the other app's member is not among them
      expect(orphans.filter((o) => o.kind === "route53-record")).toEqual([]);
    } finally {
      await awsCli(sbx, [
        "route53",
        "change-resource-record-sets",
        "--hosted-zone-id",
        zone.Id,
        "--change-batch",
        member(-1),
      ]);
    }
  }, 60_000);
});
