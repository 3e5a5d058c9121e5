import { describe, expect, it } from "vitest";
import { convergeStep } from "../../src/engine/converge.js";
import { runSteps } from "../../src/engine/runner.js";
import { KubecontrolError } from "../../src/errors.js";
import type { KubecontrolEvent } from "../../src/io/events.js";

// A step that only waits for the world (nodes Ready, targets healthy): a counter stands for the
// world, ready once it has been looked at `readyAt` times.

function world(readyAt: number) {
  let looks = 0;
  return {
    get looks() {
      return looks;
    },
    async look() {
      looks += 1;
      return looks >= readyAt
        ? { done: true as const, value: `ready after ${looks}` }
        : { done: false as const, state: `${looks} of ${readyAt}` };
    },
  };
}

const base = { name: "wait-for-widgets", description: "widgets ready", dependsOn: [], what: "widgets ready" };

describe("convergeStep", () => {
  it("goes on at once when the first look finds it true, with what it found", async () => {
    const w = world(1);
    const report = await runSteps([
      convergeStep({ ...base, look: w.look, timeoutMs: 1000, pollMs: 1, maxPollMs: 1 }),
    ]);
    expect(report.steps[0]).toMatchObject({ status: "succeeded", changed: false });
    expect(report.results.get("wait-for-widgets")).toBe("ready after 1");
    expect(w.looks).toBe(1);
  });

  it("waits, saying what it sees, until the world says yes; the result is the last look's", async () => {
    const w = world(4);
    const events: KubecontrolEvent[] = [];
    const report = await runSteps(
      [
        convergeStep({
          ...base,
          look: w.look,
          timeoutMs: 5000,
          pollMs: 1,
          maxPollMs: 2,
          waiting: (s) => `widgets (${s})`,
          summarize: (v) => v ?? "none",
        }),
      ],
      { emit: (e) => events.push(e) },
    );
    expect(report.steps[0]).toMatchObject({ status: "succeeded", changed: true });
    expect(report.results.get("wait-for-widgets")).toBe("ready after 4");
    expect(events.find((e) => e.type === "step.checked")).toMatchObject({
      satisfied: false,
      reason: "waiting for widgets (1 of 4)",
    });
    expect(events.find((e) => e.type === "step.succeeded")).toMatchObject({ summary: "ready after 4" });
  });

  it("gives up at its deadline with the last state seen, or the error `failed` makes of it", async () => {
    const never = world(Number.POSITIVE_INFINITY);
    const timedOut = await runSteps([
      convergeStep({ ...base, look: never.look, timeoutMs: 30, pollMs: 5, maxPollMs: 5 }),
    ]);
    expect(timedOut.steps[0]?.error).toMatchObject({ code: "TIMEOUT" });
    expect(timedOut.steps[0]?.error?.message).toMatch(
      /waiting for widgets ready \(last seen: \d+ of Infinity\)/,
    );

    const judged = await runSteps([
      convergeStep({
        ...base,
        look: world(Number.POSITIVE_INFINITY).look,
        timeoutMs: 30,
        pollMs: 5,
        maxPollMs: 5,
        async failed(err) {
          throw new KubecontrolError("VERIFY_FAILED", `widgets never ready: ${(err as Error).message}`);
        },
      }),
    ]);
    expect(judged.steps[0]?.error).toMatchObject({ code: "VERIFY_FAILED" });
  });
});
