import { describe, expect, it } from "vitest";
import { decideSwitch } from "../../src/engine/decide/live-colour.js";
import { decideGc, retentionOf, retentionTags } from "../../src/engine/decide/retention.js";
import type { AppState, ColourState } from "../../src/engine/observe/live-state.js";
import type { KubecontrolError } from "../../src/errors.js";
import type { Colour } from "../../src/plan/names.js";

// What gc removes and where switch may move DNS, decided on hand-made observed state and a fixed
// clock. The sandbox tests (test/e2e/switch-gc.test.ts) observe the real thing.

const HOUR = 3_600_000;
const NOW = Date.parse("2026-12-04T12:00:00Z");

type Side = { weight?: number; status?: string; tags?: Record<string, string>; age?: number } | undefined;

function state(blue: Side, green: Side, o: { dns?: boolean } = {}): AppState {
  const colour = (c: Colour, s: Side): ColourState => ({
    colour: c,
    cluster: s
      ? {
          name: `kc-app-${c}`,
          status: s.status ?? "ACTIVE",
          tags: s.tags ?? {},
          createdAt: NOW - (s.age ?? 48 * HOUR),
        }
      : undefined,
    record: s?.weight === undefined ? undefined : { weight: s.weight, ttl: 60 },
  });
  return {
    app: "app",
    dnsName: o.dns === false ? undefined : "app.example.com",
    zoneFound: true,
    colours: { blue: colour("blue", blue), green: colour("green", green) },
  };
}

const policy = { now: NOW, idleAfterMs: 24 * HOUR };
const removed = (s: AppState) =>
  decideGc(s, policy)
    .filter((f) => f.remove)
    .map((f) => f.colour);
const kept = (until: number) => retentionTags(until - HOUR, { forMs: HOUR });

describe("gc's decision", () => {
  it("removes a kept colour once its retention has passed, and never the live one", () => {
    expect(removed(state({ weight: 0, tags: kept(NOW - 1) }, { weight: 100 }))).toEqual(["blue"]);
    const fates = decideGc(state({ weight: 0, tags: kept(NOW + 5 * 60_000) }, { weight: 100 }), policy);
    expect(fates).toEqual([
      { colour: "blue", remove: false, why: "kept until 2026-12-04T12:05:00.000Z (5m left)" },
      { colour: "green", remove: false, why: "live" },
    ]);
  });

  it("never removes a colour with DNS weight, whatever its tags say", () => {
    // a colour switched back to but whose mark was not taken off yet
    expect(
      removed(state({ weight: 100, tags: kept(NOW - HOUR) }, { weight: 0, tags: kept(NOW - 1) })),
    ).toEqual(["green"]);
    // traffic split: both serve
    expect(
      removed(state({ weight: 90, tags: kept(NOW - HOUR) }, { weight: 10, tags: kept(NOW - HOUR) })),
    ).toEqual([]);
  });

  it("keeps a colour kept with --keep-old", () => {
    const forever = retentionTags(NOW - 100 * HOUR, { forever: true });
    expect(decideGc(state({ weight: 0, tags: forever }, { weight: 100 }), policy)[0]).toMatchObject({
      remove: false,
      why: expect.stringMatching(/--keep-old: no expiry/),
    });
  });

  it("keeps a colour whose kept-until tag is not a time, and names the tag, its value and what it expects", () => {
    // an old colour that never served would otherwise go as idle: the mark says it was kept
    for (const value of [
      "soon",
      "",
      " ",
      "Forever",
      "forever ",
      "1",
      "12",
      "2026",
      "Dec 5 2026",
      "2026-13-01T00:00:00Z",
    ]) {
      const tags = { "kubecontrol:retired-at": "2026-12-01T00:00:00.000Z", "kubecontrol:kept-until": value };
      expect(retentionOf(tags), JSON.stringify(value)).toBeUndefined();
      const fate = decideGc(state({ weight: 0, tags, age: 99 * HOUR }, { weight: 100 }), {
        ...policy,
        servedBefore: () => false,
      })[0];
      expect(fate, JSON.stringify(value)).toEqual({
        colour: "blue",
        remove: false,
        why: `its kubecontrol:kept-until tag ${JSON.stringify(value)} is not a time (expected an ISO 8601 time such as 2026-12-05T12:00:00Z, or forever): set it right or remove the colour with teardown`,
      });
    }
  });

  it("reads a hand-set kept-until: a past time on the live colour keeps it, a far one keeps the idle colour", () => {
    const past = { "kubecontrol:kept-until": "2000-01-01T00:00:00Z" };
    expect(removed(state({ weight: 100, tags: past }, { weight: 0, tags: past }))).toEqual(["green"]);
    const far = { "kubecontrol:kept-until": "9999-12-31T23:59:59Z" };
    expect(decideGc(state({ weight: 0, tags: far }, { weight: 100 }), policy)[0]).toMatchObject({
      remove: false,
      why: expect.stringMatching(/^kept until 9999-12-31T23:59:59.000Z/),
    });
    expect(retentionOf({ "kubecontrol:kept-until": "2026-12-05T12:00:00+01:00" })).toEqual({
      until: Date.parse("2026-12-05T11:00:00Z"),
    });
  });

  it("removes an idle colour never switched to (a failed update) only past gcIdleAfter", () => {
    expect(removed(state({ weight: 100 }, { weight: 0, age: 25 * HOUR }))).toEqual(["green"]);
    expect(removed(state({ weight: 100 }, { age: 25 * HOUR }))).toEqual(["green"]);
    const young = decideGc(state({ weight: 100 }, { weight: 0, age: 2 * HOUR }), policy)[1];
    expect(young).toEqual({ colour: "green", remove: false, why: "idle, made 2h ago: removed once 24h old" });
  });

  it("keeps an untagged idle colour that the history says served (kept by a kubecontrol that did not tag)", () => {
    const s = state({ weight: 100 }, { weight: 0, age: 99 * HOUR });
    const fate = decideGc(s, { ...policy, servedBefore: (c) => c === "green" })[1];
    expect(fate).toMatchObject({
      colour: "green",
      remove: false,
      why: expect.stringMatching(/served before/),
    });
    expect(decideGc(s, { ...policy, servedBefore: () => false })[1]?.remove).toBe(true);
  });

  it("removes nothing of an app no colour clearly serves (an unfinished create, an even split)", () => {
    expect(removed(state({ weight: 0, tags: kept(NOW - HOUR) }, { weight: 0, age: 99 * HOUR }))).toEqual([]);
    expect(removed(state({ weight: 50 }, { weight: 50 }))).toEqual([]);
    // no DNS name and two clusters: unclear
    expect(removed(state({ age: 99 * HOUR }, { age: 99 * HOUR }, { dns: false }))).toEqual([]);
  });
});

function switchError(s: AppState, to: Colour): KubecontrolError | undefined {
  try {
    decideSwitch(s, to);
    return undefined;
  } catch (err) {
    return err as KubecontrolError;
  }
}

describe("switch's decision", () => {
  it("moves DNS to a colour that stands, and says when it already has all of it", () => {
    expect(decideSwitch(state({ weight: 0 }, { weight: 100 }), "blue")).toEqual({
      from: "green",
      already: false,
    });
    expect(decideSwitch(state({ weight: 0 }, { weight: 100 }), "green")).toEqual({
      from: "blue",
      already: true,
    });
    // a shift left half-way is finished by switching to either colour
    expect(decideSwitch(state({ weight: 10 }, { weight: 90 }), "green").already).toBe(false);
    // an even split: either colour may be given all of DNS, neither already has it
    expect(decideSwitch(state({ weight: 50 }, { weight: 50 }), "blue")).toEqual({
      from: "green",
      already: false,
    });
    expect(decideSwitch(state({ weight: 50 }, { weight: 50 }), "green")).toEqual({
      from: "blue",
      already: false,
    });
  });

  it("refuses a colour that does not stand (exit 8) and an app without a DNS name (exit 5)", () => {
    expect(switchError(state(undefined, { weight: 100 }), "blue")).toMatchObject({
      code: "NOT_FOUND",
      message: "app's blue colour does not stand: it has no cluster",
    });
    expect(switchError(state({ weight: 0, status: "DELETING" }, { weight: 100 }), "blue")).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/kc-app-blue is DELETING/),
    });
    expect(switchError(state({}, {}, { dns: false }), "blue")?.code).toBe("PRECONDITION");
  });
});
