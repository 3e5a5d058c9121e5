import { describe, expect, it } from "vitest";
import {
  colourToTearDown,
  decideLiveColour,
  type LivePolicy,
  liveDuringSplit,
  requireLiveColour,
} from "../../src/engine/decide/live-colour.js";
import type { AppState } from "../../src/engine/observe/live-state.js";
import type { KubecontrolError } from "../../src/errors.js";
import type { Colour } from "../../src/plan/names.js";
import { appState as state } from "../helpers/app-state.js";

// Which colour serves an app is decided once, from observed state, for every command. These are
// the edge cases, as hand-made states; the sandbox tests of update, rollout and teardown observe
// the real thing.

const UPDATE: LivePolicy = { command: "update", shifting: true, clusterMissing: true };
const ROLLOUT: LivePolicy = { command: "roll out", shifting: false, clusterMissing: false };

function refusal(s: AppState, policy: LivePolicy): KubecontrolError | undefined {
  try {
    requireLiveColour("app", decideLiveColour(s), policy);
    return undefined;
  } catch (err) {
    return err as KubecontrolError;
  }
}

describe("the live colour", () => {
  it("is the colour with all the weight; the other is idle when its cluster stands", () => {
    expect(decideLiveColour(state({ cluster: true, weight: 100 }, {}))).toEqual({
      kind: "live",
      colour: "blue",
      weight: 100,
      shifting: false,
      idle: false,
      clusterMissing: false,
    });
    expect(
      decideLiveColour(state({ cluster: true, weight: 0 }, { cluster: true, weight: 100 })),
    ).toMatchObject({
      kind: "live",
      colour: "green",
      idle: true,
    });
  });

  it("is the larger weight while traffic is split: update finishes the shift, rollout refuses", () => {
    const split = state({ cluster: true, weight: 10 }, { cluster: true, weight: 90 });
    expect(decideLiveColour(split)).toMatchObject({
      kind: "live",
      colour: "green",
      weight: 90,
      shifting: true,
    });
    expect(refusal(split, UPDATE)).toBeUndefined();
    expect(refusal(split, ROLLOUT)).toMatchObject({ code: "PRECONDITION" });
    expect(refusal(split, ROLLOUT)?.message).toMatch(/a blue\/green update is under way/);
  });

  it("is unclear when both colours have equal weight", () => {
    const even = state({ cluster: true, weight: 50 }, { cluster: true, weight: 50 });
    expect(decideLiveColour(even)).toMatchObject({ kind: "unclear" });
    for (const policy of [UPDATE, ROLLOUT]) expect(refusal(even, policy)?.code).toBe("PRECONDITION");
  });

  it("does not exist when both weights are zero: an unfinished create names what stands", () => {
    const unfinished = state({ cluster: true, weight: 0 }, {});
    expect(decideLiveColour(unfinished)).toEqual({
      kind: "none",
      why: "DNS app.example.com gives no colour any weight",
      standing: ["blue"],
    });
    const err = refusal(unfinished, UPDATE)!;
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toBe(
      "app has no live colour to update: DNS app.example.com gives no colour any weight (blue exists: an unfinished create?)",
    );
    expect(err.hint).toContain("kubecontrol create app");
    expect(decideLiveColour(state({}, {}))).toMatchObject({ kind: "none", standing: [] });
    expect(decideLiveColour(state({}, {}, { zone: false }))).toMatchObject({
      kind: "none",
      why: "the hosted zone of app.example.com does not exist",
    });
  });

  it("follows DNS to a colour whose cluster is gone: update replaces it, rollout cannot patch it", () => {
    const orphaned = state({ weight: 100 }, { cluster: true, weight: 0 });
    expect(decideLiveColour(orphaned)).toMatchObject({
      kind: "live",
      colour: "blue",
      clusterMissing: true,
      idle: true,
    });
    expect(refusal(orphaned, UPDATE)).toBeUndefined();
    expect(refusal(orphaned, ROLLOUT)?.message).toMatch(/to blue \(weight 100\), which has no cluster/);
  });

  it("without a DNS name, is the one colour whose cluster stands; two are unclear, none is none", () => {
    expect(decideLiveColour(state({}, { cluster: true }, { dns: false }))).toMatchObject({
      kind: "live",
      colour: "green",
      weight: 0,
    });
    expect(decideLiveColour(state({ cluster: true }, { cluster: true }, { dns: false }))).toMatchObject({
      kind: "unclear",
    });
    expect(refusal(state({}, {}, { dns: false }), ROLLOUT)?.code).toBe("NOT_FOUND");
  });
});

describe("the colour teardown removes when none is named", () => {
  it("is the only one standing, else the one without weight; two serving colours must be named", () => {
    expect(colourToTearDown("app", state({}, { cluster: true, weight: 100 }))).toBe("green");
    expect(colourToTearDown("app", state({ cluster: true, weight: 100 }, { cluster: true, weight: 0 }))).toBe(
      "green",
    );
    expect(colourToTearDown("app", state({ cluster: true }, { cluster: true }, { dns: false }))).toBe("blue");
    expect(colourToTearDown("app", state({}, {}))).toBe("blue");
    expect(() =>
      colourToTearDown("app", state({ cluster: true, weight: 10 }, { cluster: true, weight: 90 })),
    ).toThrow(/two live colours/);
  });
});

describe("the live colour while DNS splits traffic (a progressive switch part-way)", () => {
  const V1 = "1".repeat(40);
  const V2 = "2".repeat(40);
  const split = (b: number, g: number) => state({ cluster: true, weight: b }, { cluster: true, weight: g });
  const during = (s: AppState, versions: Record<Colour, string | undefined>, commit: string) =>
    liveDuringSplit("app", s, decideLiveColour(s), versions, commit);

  it("reads an even split as serving from the colour that does not run the version", () => {
    // given 50/50 with green at the version the update moves to
    const live = during(split(50, 50), { blue: V1, green: V2 }, V2);
    // then blue is live, so the update carries on towards green
    expect(live).toMatchObject({ kind: "live", colour: "blue", weight: 50, shifting: true });
    expect(during(split(50, 50), { blue: V1, green: V2 }, V1)).toMatchObject({ colour: "green" });
  });

  it("keeps the larger weight's colour when the split is uneven", () => {
    expect(during(split(90, 10), { blue: V1, green: V2 }, V2)).toMatchObject({
      colour: "blue",
      shifting: true,
    });
    expect(during(split(10, 90), { blue: V1, green: V2 }, V2)).toMatchObject({ colour: "green" });
  });

  it("refuses an update to a third version while another update's shift is under way", () => {
    let err: KubecontrolError | undefined;
    try {
      during(split(90, 10), { blue: V1, green: V2 }, "3".repeat(40));
    } catch (e) {
      err = e as KubecontrolError;
    }
    expect(err?.code).toBe("PRECONDITION");
    expect(err?.message).toMatch(/blue 90 at 111111111111, green 10 at 222222222222/);
    expect(err?.hint).toMatch(/kubecontrol resume app/);
  });

  it("changes nothing when traffic is not split", () => {
    const s = state({ cluster: true, weight: 100 }, { cluster: true, weight: 0 });
    expect(during(s, { blue: V1, green: V2 }, "3".repeat(40))).toEqual(decideLiveColour(s));
  });
});
