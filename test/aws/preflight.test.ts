import { beforeAll, describe, expect, it } from "vitest";
import { preflightAws } from "../../src/engine/preflight/preflight.js";
import { codedError } from "../helpers/errors.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { planFor, testAws, uniqueWebapp } from "./stack-fixture.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

const preflightError = codedError;

describe("preflight", () => {
  it("passes for webapp in the seeded account, reading only", async () => {
    const app = await uniqueWebapp();
    const t = testAws(sbx);
    const report = await preflightAws(planFor(app), t.aws, app);
    expect(report.account).toBe("123456789012");
    expect(report.network.privateSubnets).toHaveLength(3);
    expect((await t.counts()).mutating).toEqual({});
  });

  it("fails on an instance type the region does not offer, and changes nothing", async () => {
    // Given a pool asking for an instance type no zone offers
    const app = await uniqueWebapp();
    app.hardware.worker = { ...app.hardware.worker!, instanceTypes: ["c6i.xlarge", "zz9.large"] };
    const t = testAws(sbx);

    // When preflight runs
    const err = await preflightError(() => preflightAws(planFor(app), t.aws, app));

    // Then it names the type and the pool, and no mutating call reached AWS
    expect(err.code).toBe("PREFLIGHT_FAILED");
    expect(err.message).toContain("instance type zz9.large of pool worker is not offered");
    expect(err.hint).toContain("describe-instance-type-offerings");
    const counts = await t.counts();
    expect(counts.total).toBeGreaterThan(0);
    expect(counts.mutating).toEqual({});
  });

  it("fails when the app's hosted zone does not exist, and changes nothing", async () => {
    // Given an app whose DNS zone is in no hosted zone of the account
    const app = await uniqueWebapp();
    app.dns = { zone: `${app.name}.example.net`, record: `www.${app.name}.example.net`, ttl: 60 };
    const t = testAws(sbx);

    // When preflight runs
    const err = await preflightError(() => preflightAws(planFor(app), t.aws, app));

    // Then it says which zone to create, and no mutating call reached AWS
    expect(err.code).toBe("PREFLIGHT_FAILED");
    expect(err.message).toContain(`no public hosted zone ${app.name}.example.net`);
    expect((await t.counts()).mutating).toEqual({});
  });

  it("fails when a referenced secret is missing, without trying to read it", async () => {
    const app = await uniqueWebapp();
    const web = app.components.web!;
    app.components.web = {
      ...web,
      containers: web.containers.map((c) => ({
        ...c,
        envFromSecrets: { TOKEN: `${app.name}/missing#token` },
      })),
    };
    const t = testAws(sbx);
    const err = await preflightError(() => preflightAws(planFor(app), t.aws, app));
    expect(err.message).toContain(`secret ${app.name}/missing`);
    const counts = await t.counts();
    // Only the worker's secret (webapp/db, seeded) is read, for its keys; the missing one is not.
    expect(counts.calls["secretsmanager:GetSecretValue"]).toBe(1);
    expect(counts.mutating).toEqual({});
  });
});
