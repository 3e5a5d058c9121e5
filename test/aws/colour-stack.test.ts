import { beforeAll, describe, expect, it } from "vitest";
import { colourStackSteps } from "../../src/engine/steps/aws/colour-stack.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { failures, PACE, planFor, run, testAws, uniqueWebapp, withSandboxPolicies } from "./stack-fixture.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

describe("a colour's AWS stack", () => {
  it("is created, re-run as a no-op, and torn down", async () => {
    const app = await uniqueWebapp();
    const plan = await withSandboxPolicies(sbx, planFor(app, "blue"));
    const t = testAws(sbx);
    const t0 = Date.now();
    const created = await run(colourStackSteps(plan, t.aws, "run-1", { pace: PACE }));
    expect(failures(created.report)).toEqual([]);
    const createCounts = await t.counts();
    console.log("create", Date.now() - t0, "ms", createCounts.total, JSON.stringify(createCounts.calls));
    await t.resetCounts();
    const again = await run(colourStackSteps(plan, t.aws, "run-2", { pace: PACE }));
    expect(failures(again.report)).toEqual([]);
    const rerun = await t.counts();
    console.log("rerun", rerun.total, JSON.stringify(rerun.calls));
    expect(again.report.steps.filter((s) => s.changed).map((s) => s.name)).toEqual([]);
    expect(rerun.mutating).toEqual({});
    const down = await run(teardownSteps(plan, t.aws, "run-3", { pace: PACE, destroy: true }));
    expect(failures(down.report)).toEqual([]);
  }, 240_000);
});
