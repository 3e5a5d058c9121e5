import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { colourStackSteps } from "../../src/engine/steps/aws/colour-stack.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { destroyPlanSteps } from "../helpers/destroy-plan.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { inventory } from "./inventory.js";
import { failures, PACE, planFor, run, testAws, uniqueWebapp } from "./stack-fixture.js";

let sbx: TestSandbox;
let accessKeyId: string | undefined;

type Rule = { accessKeyId?: string } & Record<string, unknown>;

/** Adds this test's rules to the proxy's (scoped to its access key, so other tests' calls are untouched). */
async function addFaults(rules: Rule[]): Promise<void> {
  try {
    await adminCall(`${sbx.proxyUrl}/_proxy/faults/append`, { body: { rules } });
  } catch {
    // A proxy without /append (older): read, add, write.
    const current = await adminCall<{ rules: Rule[] }>(`${sbx.proxyUrl}/_proxy/faults`);
    await adminCall(`${sbx.proxyUrl}/_proxy/faults`, { body: { rules: [...current.rules, ...rules] } });
  }
}

async function clearFaults(key: string): Promise<void> {
  try {
    await adminCall(`${sbx.proxyUrl}/_proxy/faults/remove`, { body: { accessKeyId: key } });
  } catch {
    const current = await adminCall<{ rules: Rule[] }>(`${sbx.proxyUrl}/_proxy/faults`);
    await adminCall(`${sbx.proxyUrl}/_proxy/faults`, {
      body: { rules: current.rules.filter((r) => r.accessKeyId !== key) },
    });
  }
}

beforeAll(async () => {
  sbx = await testSandbox();
});

afterAll(async () => {
  if (accessKeyId) await clearFaults(accessKeyId);
});

describe("creating a colour under injected faults", () => {
  it("converges with exactly one resource per logical name through throttling, 5xx and lost responses, and tears down to nothing", async () => {
    // Given a proxy that fails about 20% of this test's calls: throttled, 5xx, or made but unanswered
    const app = await uniqueWebapp();
    const plan = planFor(app, "green");
    const t = testAws(sbx);
    accessKeyId = t.accessKeyId;
    await addFaults([
      { operation: "*:*", kind: "throttle", rate: 0.07, seed: "throttle-1", accessKeyId },
      { operation: "*:*", kind: "5xx", rate: 0.07, seed: "5xx-1", accessKeyId },
      { operation: "*:*", kind: "lost-response", rate: 0.07, seed: "lost-1", accessKeyId },
    ]);

    // When the colour is created
    const t0 = Date.now();
    const { report, events } = await run(colourStackSteps(plan, t.aws, "run-faults", { pace: PACE }));
    const createMs = Date.now() - t0;
    const counts = await t.counts();
    const faults = await adminCall<{ faults: Record<string, Record<string, number>> }>(
      `${sbx.proxyUrl}/_proxy/calls?accessKeyId=${accessKeyId}`,
    );
    await clearFaults(accessKeyId);

    // Then it succeeded, faults were injected and each retried attempt was reported
    expect(failures(report)).toEqual([]);
    const injected = Object.values(faults.faults).flatMap((k) => Object.values(k));
    // (about a fifth of some forty calls: how many is chance, that there were some is not)
    expect(injected.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const retries = events.filter(
      (e): e is Extract<KubecontrolEvent, { type: "step.retrying" }> => e.type === "step.retrying",
    );
    expect(retries.length).toBeGreaterThan(0);

    // ...and the AWS CLI finds exactly one of each planned resource
    const seen = await inventory(sbx, plan);
    for (const r of plan.aws.filter((x) => x.kind !== "route53-record"))
      expect(seen.get(r.id)?.length, r.id).toBe(1);

    console.log(
      JSON.stringify({
        faultCreateMs: createMs,
        faultCreateCalls: counts.total,
        faultsInjected: injected.reduce((a, b) => a + b, 0),
        retryEvents: retries.length,
      }),
    );

    // When it is torn down (with the app's resources) under the same storm
    await addFaults([
      { operation: "*:*", kind: "throttle", rate: 0.07, seed: "throttle-2", accessKeyId },
      { operation: "*:*", kind: "5xx", rate: 0.07, seed: "5xx-2", accessKeyId },
      { operation: "*:*", kind: "lost-response", rate: 0.07, seed: "lost-2", accessKeyId },
    ]);
    const down = await run(destroyPlanSteps(plan, t.aws, "run-faults-down", { pace: PACE }));
    await clearFaults(accessKeyId);

    // Then nothing of it is left
    expect(failures(down.report)).toEqual([]);
    expect((await inventory(sbx, plan)).size).toBe(0);
  }, 240_000);
});
