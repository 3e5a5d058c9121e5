import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { phaseOf, phasesOf } from "../../src/engine/phase.js";
import { remainingMs, stepKey } from "../../src/engine/progress.js";
import type { Step } from "../../src/engine/step.js";
import { outcomeOf } from "../../src/engine/workflows/outcome.js";
import { recordedWorkflow } from "../../src/engine/workflows/recorded-run.js";
import { openStore } from "../../src/history/open.js";
import type { KubecontrolEvent } from "../../src/io/events.js";

// Progress people can plan around: each step belongs to a phase, and the time left comes from
// the app's own past runs (the median of each step's durations), along the longest path of what
// is still to do. The history is a real SQLite store on disk.

const step = (name: string, ms: number, dependsOn: string[] = []): Step => ({
  name,
  description: name,
  dependsOn,
  async check() {
    return { satisfied: false, reason: "missing", needed: undefined };
  },
  async apply() {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return undefined;
  },
});

describe("phases", () => {
  it("are read from the steps' names, in the order an update goes through them", () => {
    const names = [
      "find-network",
      "ensure-eks-cluster/main",
      "ensure-image",
      "wait-for-nodes",
      "ensure-kube-objects",
      "verify-workloads",
      "verify-targets",
      "verify-checks",
      "switch-dns",
      "shift-dns/green",
      "wait-for-drain",
      "delete-eks-cluster/main",
      "delete-live-image-tags/blue",
      "roll-out-images",
      "find-live-cluster",
    ];
    expect(Object.fromEntries(names.map((n) => [n, phaseOf({ name: n })]))).toEqual({
      "find-network": "prepare",
      "ensure-eks-cluster/main": "build",
      "ensure-image": "build",
      "wait-for-nodes": "build",
      "ensure-kube-objects": "build",
      "verify-workloads": "verify",
      "verify-targets": "verify",
      "verify-checks": "verify",
      "switch-dns": "switch",
      "shift-dns/green": "switch",
      "wait-for-drain": "drain",
      "delete-eks-cluster/main": "remove",
      "delete-live-image-tags/blue": "remove",
      "roll-out-images": "rollout",
      "find-live-cluster": "prepare",
    });
    expect(phasesOf(names.map((name) => ({ name })))).toEqual([
      "prepare",
      "build",
      "rollout",
      "verify",
      "switch",
      "drain",
      "remove",
    ]);
    // A step may say its phase where its name does not.
    expect(phaseOf({ name: "ensure-weight/10", phase: "switch" })).toBe("switch");
  });
});

describe("time left", () => {
  const graph = [
    { name: "a", dependsOn: [] },
    { name: "b", dependsOn: ["a"] },
    { name: "c", dependsOn: [] },
    { name: "d", dependsOn: ["b", "c"] },
  ];
  const past = {
    runs: 3,
    medians: new Map([
      ["a", 10_000],
      ["b", 20_000],
      ["c", 5_000],
      ["d", 1_000],
    ]),
  };

  it("is the longest path through the steps not yet done, not their sum", () => {
    expect(remainingMs(graph, past, new Map(), 0)).toBe(31_000);
  });

  it("counts what is left of a running step, and nothing for one that overran or ended", () => {
    const state = new Map([
      ["a", { started: 0 }],
      ["c", { started: 0, ended: true }],
    ]);
    expect(remainingMs(graph, past, state, 4_000)).toBe(27_000);
    expect(remainingMs(graph, past, state, 60_000)).toBe(21_000);
  });

  it("is unknown without past runs", () => {
    expect(remainingMs(graph, { runs: 0, medians: new Map() }, new Map(), 0)).toBeUndefined();
  });

  it("takes the two colours' steps as one", () => {
    expect(stepKey("delete-live-image-tags/blue")).toBe(stepKey("delete-live-image-tags/green"));
    expect(stepKey("delete-eks-cluster/green/main")).toBe("delete-eks-cluster/*/main");
  });
});

describe("a recorded run's progress", () => {
  it("says its phase, steps done and, from the app's earlier runs, the time left", async () => {
    const stateDir = path.join(mkdtempSync(path.join(tmpdir(), "kc-progress-")), "state");
    const store = await openStore({ historyStore: "sqlite", stateDir });
    const graph = () => [
      step("find-network", 50),
      step("ensure-eks-cluster/main", 300, ["find-network"]),
      step("verify-workloads", 200, ["ensure-eks-cluster/main"]),
      step("delete-eks-cluster/main", 100, ["verify-workloads"]),
    ];
    const run = async (app: string, command: string) => {
      const events: KubecontrolEvent[] = [];
      await recordedWorkflow(
        {
          store,
          app,
          command,
          version: "v1",
          colour: "blue",
          planHash: null,
          ttlMs: 60_000,
          marginMs: 5_000,
          emit: (e) => events.push(e),
        },
        async (r) => outcomeOf(r.runId, await r.runGraph(graph(), { concurrency: 4, hint: "" })),
      );
      return events;
    };
    try {
      // Given no earlier run: phases and counts, no estimate.
      const first = await run("hello", "update");
      const started = first.find((e) => e.type === "run.started")!;
      expect(started).toMatchObject({ phases: ["prepare", "build", "verify", "remove"], version: "v1" });
      expect(started).not.toHaveProperty("estimateMs");
      const progress = first.filter((e) => e.type === "run.progress");
      expect(progress.length).toBeGreaterThanOrEqual(8);
      for (const p of progress) expect(p).not.toHaveProperty("remainingMs");
      expect(progress.filter((p) => p.phaseStarted).map((p) => p.phase)).toEqual([
        "prepare",
        "build",
        "verify",
        "remove",
      ]);
      expect(progress.at(-1)).toMatchObject({ stepsDone: 4, steps: 4, basedOnRuns: 0 });

      // When it runs again: the first run's durations say what is left.
      const second = await run("hello", "update");
      const estimate = second.find((e) => e.type === "run.started")!;
      expect(estimate.type === "run.started" && estimate.estimateMs).toBeGreaterThanOrEqual(600);
      expect(estimate.type === "run.started" && estimate.estimateMs).toBeLessThan(1_500);
      const left = second
        .filter((e) => e.type === "run.progress")
        .map((e) => (e.type === "run.progress" ? e.remainingMs : undefined));
      expect(left.every((ms) => typeof ms === "number")).toBe(true);
      expect(left.at(-1)).toBe(0);
      // ...counting down as steps end.
      expect(left[0]!).toBeGreaterThan(left[Math.floor(left.length / 2)]!);
      expect(second.find((e) => e.type === "run.progress")).toMatchObject({ basedOnRuns: 1 });

      // Another app's runs, or another command's, say nothing about this one.
      const other = await run("other", "update");
      expect(other.find((e) => e.type === "run.started")).not.toHaveProperty("estimateMs");
      const rollout = await run("hello", "rollout");
      expect(rollout.find((e) => e.type === "run.started")).not.toHaveProperty("estimateMs");
    } finally {
      await store.close();
    }
  });
});
