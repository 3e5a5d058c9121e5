import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { formatDuration } from "../../src/io/format.js";
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
});
