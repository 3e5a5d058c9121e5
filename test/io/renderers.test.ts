import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { describeEvent, formatDuration, timeLeft } from "../../src/io/format.js";
import { jsonRenderer } from "../../src/io/render-json.js";
import { plainRenderer } from "../../src/io/render-plain.js";

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

const steps = [
  {
    name: "ensureThing",
    description: "make the thing",
    check: async () => ({ satisfied: false as const, reason: "thing is missing", needed: undefined }),
    apply: async () => undefined,
  },
  {
    name: "ensureOther",
    description: "make the other",
    check: async () => ({ satisfied: true as const, reason: "other exists" }),
  },
];

describe("renderers", () => {
  it("NDJSON gives one parseable event per line, in order", async () => {
    const out = capture();
    await runSteps(steps, { emit: jsonRenderer(out.stream), concurrency: 1 });
    const events = out
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as KubecontrolEvent);
    expect(events.map((e) => e.type)).toEqual([
      "step.started",
      "step.checked",
      "step.succeeded",
      "step.started",
      "step.checked",
      "step.succeeded",
    ]);
  });

  it("plain lines carry an ISO timestamp and say what changed and why", async () => {
    const out = capture();
    await runSteps(steps, { emit: plainRenderer(out.stream), concurrency: 1 });
    const lines = out.text().trim().split("\n");
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(lines.map((l) => l.slice(25))).toEqual([
      "ensureThing: needed: thing is missing",
      expect.stringMatching(/^ensureThing: done: done \(\d+ms\)$/),
      expect.stringMatching(/^ensureOther: no change: already in place \(\d+ms\)$/),
    ]);
  });

  it("formats durations for people", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(120_000)).toBe("2m");
  });

  it("plain lines say each phase as it starts, with the time left, and nothing for the rest", () => {
    const progress = {
      type: "run.progress",
      at: 0,
      runId: "r",
      phase: "verify",
      phaseStarted: true,
      phases: ["build", "verify", "switch"],
      stepsDone: 24,
      steps: 43,
      elapsedMs: 1_000,
      remainingMs: 185_000,
      basedOnRuns: 5,
    } satisfies KubecontrolEvent;
    expect(describeEvent(progress)).toBe("phase verify (2/3): 24/43 steps done, about 4m left");
    expect(describeEvent({ ...progress, phaseStarted: false })).toBeUndefined();
    expect(
      describeEvent({
        type: "run.started",
        at: 0,
        runId: "r",
        command: "update",
        app: "hello",
        steps: 43,
        estimateMs: 11 * 60_000,
      }),
    ).toBe("update hello: 43 steps (run r), about 11m by its past runs");
  });

  it("says the time left coarsely", () => {
    expect(timeLeft(20_000)).toBe("less than a minute left");
    expect(timeLeft(61_000)).toBe("about 2m left");
    expect(timeLeft(90 * 60_000)).toBe("about 1h30m left");
    expect(timeLeft(-5)).toBe("taking longer than its past runs");
  });
});
