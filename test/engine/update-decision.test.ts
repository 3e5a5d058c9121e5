import { describe, expect, it } from "vitest";
import { decideUpdate, type RunningVersions, versionsToRead } from "../../src/engine/decide/update.js";
import type { AppState } from "../../src/engine/observe/live-state.js";
import type { KubecontrolError } from "../../src/errors.js";
import { appState as state } from "../helpers/app-state.js";

// What an update does is decided from observed state and the versions read from the clusters, a
// pure function. These are its cases on hand-made states; test/e2e/update.test.ts observes the
// real thing.

const NEW = "c0ffee".padEnd(40, "0");
const OLD = "0ld".padEnd(40, "0");
const OTHER = "beef".padEnd(40, "0");

function refusal(s: AppState, versions: RunningVersions): KubecontrolError | undefined {
  try {
    decideUpdate(s, versions, NEW, [25, 50]);
    return undefined;
  } catch (err) {
    return err as KubecontrolError;
  }
}

describe("the update decision", () => {
  it("refuses when no colour has weight (nothing serves), naming the unfinished create", () => {
    const none = state({ cluster: true, weight: 0 }, { weight: 0 });
    expect(versionsToRead(none)).toEqual([]);
    const err = refusal(none, {});
    expect(err?.code).toBe("NOT_FOUND");
    expect(err?.message).toMatch(/no live colour to update.*blue exists: an unfinished create/);
  });

  it("builds the idle colour when the live one (100/0) runs another version, with the spec's DNS steps", () => {
    const s = state({ cluster: true, weight: 100 }, { cluster: true, weight: 0 });
    expect(versionsToRead(s)).toEqual(["blue"]);
    expect(decideUpdate(s, { blue: OLD }, NEW, [0, 25, 50, 100])).toEqual({
      mode: "deploy",
      live: "blue",
      liveVersion: OLD,
      target: "green",
      old: "blue",
      // 0 and 100 are not steps: the switch itself gives all of it
      dnsSteps: [25, 50],
    });
  });

  it("finishes when the live colour already runs the version", () => {
    const s = state({ cluster: true, weight: 0 }, { cluster: true, weight: 100 });
    expect(versionsToRead(s)).toEqual(["green"]);
    expect(decideUpdate(s, { green: NEW }, NEW, [25])).toEqual({
      mode: "finish",
      live: "green",
      liveVersion: NEW,
      target: "green",
      old: "blue",
      dnsSteps: [25],
    });
  });

  it("takes no DNS steps when the old colour has no cluster to go back to", () => {
    // DNS points at blue, whose cluster is gone: green is built and gets all of DNS at once.
    const s = state({ weight: 100 }, {});
    expect(versionsToRead(s)).toEqual(["blue"]);
    expect(decideUpdate(s, { blue: undefined }, NEW, [25, 50])).toMatchObject({
      mode: "deploy",
      live: "blue",
      liveVersion: undefined,
      target: "green",
      old: "blue",
      dnsSteps: [],
    });
  });

  it("reads both colours' versions while DNS splits traffic", () => {
    expect(versionsToRead(state({ cluster: true, weight: 50 }, { cluster: true, weight: 50 }))).toEqual([
      "blue",
      "green",
    ]);
  });

  it.each([
    // an even split goes on towards the colour that runs the version, from where the weights are
    { weights: [50, 50], blue: OLD, green: NEW, want: { mode: "deploy", live: "blue", target: "green" } },
    { weights: [50, 50], blue: NEW, green: OLD, want: { mode: "deploy", live: "green", target: "blue" } },
    // an uneven split whose larger side runs the version is finished
    { weights: [10, 90], blue: OLD, green: NEW, want: { mode: "finish", live: "green", target: "green" } },
  ])(
    "continues a split $weights towards the colour at the version ($want.mode)",
    ({ weights, blue, green, want }) => {
      const s = state({ cluster: true, weight: weights[0] }, { cluster: true, weight: weights[1] });
      const d = decideUpdate(s, { blue, green }, NEW, [25, 50]);
      expect(d).toMatchObject(want);
      expect(d.old).toBe(want.target === "blue" ? "green" : "blue");
      // the old colour stands with a record: the spec's steps are taken from the weights as they are
      expect(d.dnsSteps).toEqual([25, 50]);
    },
  );

  it("refuses a third version while traffic is split: another update's shift is under way", () => {
    const s = state({ cluster: true, weight: 50 }, { cluster: true, weight: 50 });
    const err = refusal(s, { blue: OLD, green: OTHER });
    expect(err?.code).toBe("PRECONDITION");
    expect(err?.message).toMatch(/neither colour runs c0ffee000000: another update's shift is under way/);
    expect(err?.hint).toMatch(/finish it first/);
  });
});
