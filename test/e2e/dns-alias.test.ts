import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { mutatingCalls } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// An app whose name is its zone's apex gets an alias A record to its Application Load Balancer.
// Route 53 reads such an alias back as `dualstack.<the load balancer's name>` (the sandbox does
// too), so a re-run that compared names as written would rewrite the record on every run.

let p: E2eProject;
let zoneId: string;

beforeAll(async () => {
  p = await e2eProject("apex", (spec, app) =>
    spec.replace(/dns: \{.*\}/, `dns: { zone: "${app}.example.com", record: "${app}.example.com", ttl: 60 }`),
  );
  const zone = (await awsCli(p.sbx, [
    "route53",
    "create-hosted-zone",
    "--name",
    `${p.app}.example.com`,
    "--caller-reference",
    p.app,
  ])) as { HostedZone: { Id: string } };
  zoneId = zone.HostedZone.Id;
}, 120_000);

afterAll(async () => {
  await p?.cleanup();
  if (zoneId) await awsCli(p.sbx, ["route53", "delete-hosted-zone", "--id", zoneId]).catch(() => undefined);
}, 180_000);

interface AliasSet {
  SetIdentifier?: string;
  Weight?: number;
  AliasTarget?: { DNSName: string };
}

describe("an alias record at the zone apex", () => {
  it("is left alone by a re-run, though Route 53 reads it back as dualstack.<name>", async () => {
    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const sets = (
      (await awsCli(p.sbx, ["route53", "list-resource-record-sets", "--hosted-zone-id", zoneId])) as {
        ResourceRecordSets: AliasSet[];
      }
    ).ResourceRecordSets.filter((s) => s.SetIdentifier);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.Weight).toBe(100);
    expect(sets[0]!.AliasTarget?.DNSName).toMatch(/^dualstack\./);

    const key = testAccessKeyId();
    const again = await p.kubecontrol(["create", p.app, "--yes"], { accessKeyId: key });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/shift-dns\/\S+: no change: .*weight 100 already/);
    expect(await mutatingCalls(p.sbx, key)).toEqual({});
  }, 300_000);
});
