import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { colourToTearDown, decideLiveColour, decideSwitch } from "../../src/engine/decide/live-colour.js";
import { decideGc } from "../../src/engine/decide/retention.js";
import type { AppState } from "../../src/engine/observe/live-state.js";

// The decisions on states recorded from the sandbox (scripts/record-observed.mjs): what observeApp
// read of hello after create, after `update --keep-old`, after `switch --to blue`, and after the
// teardown of green. Hand-made edge cases are in live-colour.test.ts and retention.test.ts.

const HOUR = 3_600_000;

function observed(name: string): { recordedAt: number; state: AppState } {
  const file = path.resolve(import.meta.dirname, "../fixtures/observed", `${name}.json`);
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("decisions on recorded states", () => {
  it("after create: blue is live alone; switch to green is refused (no cluster); gc keeps blue", () => {
    const { state, recordedAt } = observed("created-blue");
    expect(decideLiveColour(state)).toMatchObject({ kind: "live", colour: "blue", weight: 100, idle: false });
    expect(() => decideSwitch(state, "green")).toThrow(/green colour does not stand: it has no cluster/);
    expect(decideSwitch(state, "blue")).toEqual({ from: "green", already: true });
    expect(colourToTearDown("hello", state)).toBe("blue");
    const fates = decideGc(state, { now: recordedAt + 48 * HOUR, idleAfterMs: 24 * HOUR });
    expect(fates.filter((f) => f.remove)).toEqual([]);
  });

  it("after update --keep-old: green is live, blue idle and kept forever; gc never removes it", () => {
    const { state, recordedAt } = observed("kept-old-blue");
    expect(decideLiveColour(state)).toMatchObject({ kind: "live", colour: "green", weight: 100, idle: true });
    expect(decideSwitch(state, "blue")).toEqual({ from: "green", already: false });
    expect(colourToTearDown("hello", state)).toBe("blue");
    for (const later of [0, 48 * HOUR, 365 * 24 * HOUR]) {
      const fates = decideGc(state, { now: recordedAt + later, idleAfterMs: 24 * HOUR });
      expect(fates.find((f) => f.colour === "blue")).toMatchObject({ remove: false });
      expect(fates.find((f) => f.colour === "green")).toMatchObject({ remove: false });
    }
  });

  it("after switch --to blue: blue is live again; green, marked kept until the switch, goes with gc once that time has passed", () => {
    const { state } = observed("switched-back");
    expect(decideLiveColour(state)).toMatchObject({ kind: "live", colour: "blue", weight: 100, idle: true });
    const keptUntil = Date.parse(state.colours.green.cluster!.tags!["kubecontrol:kept-until"]!);
    const before = decideGc(state, { now: keptUntil - 1, idleAfterMs: 24 * HOUR });
    expect(before.find((f) => f.colour === "green")).toMatchObject({ remove: false });
    const after = decideGc(state, { now: keptUntil + 1, idleAfterMs: 24 * HOUR });
    expect(after.find((f) => f.colour === "green")).toMatchObject({ remove: true });
    expect(after.find((f) => f.colour === "blue")).toMatchObject({ remove: false });
  });

  it("after green's teardown: blue is live alone, as after create", () => {
    const { state } = observed("green-removed");
    expect(decideLiveColour(state)).toMatchObject({ kind: "live", colour: "blue", idle: false });
    expect(state.colours.green.cluster).toBeUndefined();
    expect(state.colours.green.record).toBeUndefined();
  });
});
