import { describe, expect, it } from "vitest";
import { decideLiveColour } from "../../src/engine/decide/live-colour.js";
import {
  type AppFacts,
  type ColourStatus,
  judgeHealth,
  workloadReady,
} from "../../src/engine/observe/app-status.js";
import type { Colour } from "../../src/plan/names.js";

// One word of health per app, judged from what status read: hand-made states of each kind.

type Side = { cluster?: string; weight?: number; ready?: [number, number] };

function facts(blue: Side, green: Side, extra: Partial<AppFacts> = {}): AppFacts {
  const colour = (c: Colour, s: Side): ColourStatus => ({
    colour: c,
    cluster: s.cluster ? { name: `kc-app-${c}`, status: s.cluster } : undefined,
    record: s.weight === undefined ? undefined : { weight: s.weight, ttl: 60 },
    ...(s.ready
      ? {
          view: {
            version: "abc",
            workloads: {
              ready: s.ready[0],
              desired: s.ready[1],
              notReady: s.ready[0] < s.ready[1] ? ["deployment/web"] : [],
            },
            nodes: { ready: 2, total: 2 },
          },
        }
      : {}),
  });
  const colours = { blue: colour("blue", blue), green: colour("green", green) };
  return {
    app: "app",
    live: decideLiveColour({ app: "app", dnsName: "app.example.com", zoneFound: true, colours }),
    dnsName: "app.example.com",
    colours,
    lease: undefined,
    lastRun: undefined,
    readAt: 0,
    ...extra,
  };
}

describe("health", () => {
  it("is healthy when one colour serves from an ACTIVE cluster with every workload ready", () => {
    expect(judgeHealth(facts({ cluster: "ACTIVE", weight: 100, ready: [3, 3] }, {}))).toEqual({
      health: "healthy",
      problems: [],
    });
  });

  it("is degraded when a workload is not ready, the cluster is not ACTIVE, or traffic is split", () => {
    const notReady = judgeHealth(facts({ cluster: "ACTIVE", weight: 100, ready: [2, 3] }, {}));
    expect(notReady).toEqual({ health: "degraded", problems: ["2 of 3 workloads ready (deployment/web)"] });
    expect(judgeHealth(facts({ cluster: "UPDATING", weight: 100 }, {})).health).toBe("degraded");
    const split = judgeHealth(
      facts(
        { cluster: "ACTIVE", weight: 90, ready: [1, 1] },
        { cluster: "ACTIVE", weight: 10, ready: [1, 1] },
      ),
    );
    expect(split).toEqual({ health: "degraded", problems: ["traffic is split: blue has 90"] });
  });

  it("is degraded when the load balancer's targets are not all healthy, or a pool has fewer nodes Ready than desired", () => {
    const base = facts({ cluster: "ACTIVE", weight: 100, ready: [3, 3] }, {});
    const blue = base.colours!.blue;
    blue.targets = { healthy: 1, total: 2 };
    blue.pools = [{ pool: "general", capacity: "spot", desired: 3, inService: 3 }];
    blue.view = { ...blue.view!, pools: { general: { ready: 2, total: 3 } } };
    expect(judgeHealth(base)).toEqual({
      health: "degraded",
      problems: ["1 of 2 load balancer targets healthy", "pool general: 2 of 3 nodes Ready"],
    });
    blue.targets = { healthy: 2, total: 2 };
    blue.view = { ...blue.view!, pools: { general: { ready: 3, total: 3 } } };
    expect(judgeHealth(base).health).toBe("healthy");
  });

  it("is failed when nothing serves though a colour stands, or DNS points at a colour without a cluster", () => {
    expect(judgeHealth(facts({ cluster: "ACTIVE", weight: 0 }, {})).health).toBe("failed");
    expect(judgeHealth(facts({ weight: 100 }, { cluster: "ACTIVE", weight: 0 })).health).toBe("failed");
  });

  it("is deploying while a run holds the lease, absent when nothing stands, unknown when unread", () => {
    const lease = {
      owner: "alice@host",
      host: "host",
      pid: 42,
      acquiredAt: 0,
      expiresAt: 10_000,
      holderGone: false,
    };
    expect(judgeHealth(facts({ cluster: "ACTIVE", weight: 0 }, {}, { lease }), 5_000).health).toBe(
      "deploying",
    );
    // an expired lease is no run: its holder is gone
    expect(judgeHealth(facts({ cluster: "ACTIVE", weight: 0 }, {}, { lease }), 20_000).health).toBe("failed");
    // a killed run's lease: its holder is gone, the create it made is unfinished
    const killed = judgeHealth(
      facts({ cluster: "ACTIVE", weight: 0 }, {}, { lease: { ...lease, holderGone: true } }),
      5_000,
    );
    expect(killed.health).toBe("failed");
    expect(killed.problems[1]).toMatch(/the run of alice@host that held the lease is gone \(pid 42\)/);
    expect(judgeHealth(facts({}, {}))).toEqual({ health: "absent", problems: [] });
    expect(judgeHealth({ ...facts({}, {}), error: "not read within 30s" })).toEqual({
      health: "unknown",
      problems: ["not read within 30s"],
    });
  });

  it("does not let a run under way hide a live colour that is not serving well", () => {
    const lease = {
      owner: "cron@host",
      host: "host",
      pid: 7,
      acquiredAt: 0,
      expiresAt: 10_000,
      holderGone: false,
    };
    const judged = judgeHealth(
      facts({ cluster: "ACTIVE", weight: 100, ready: [1, 2] }, {}, { lease }),
      5_000,
    );
    expect(judged.health).toBe("degraded");
    expect(judged.problems).toEqual([
      "1 of 2 workloads ready (deployment/web)",
      "cron@host holds the lease (pid 7 on host)",
    ]);
    expect(judgeHealth(facts({ cluster: "ACTIVE", weight: 100, ready: [0, 0] }, {})).problems).toEqual([
      "no workloads of the app on blue's cluster",
    ]);
  });
});

describe("a workload is ready", () => {
  const deployment = (status: Record<string, unknown>, replicas = 1) => ({
    metadata: { generation: 2 },
    spec: { replicas },
    status: { observedGeneration: 2, ...status },
  });

  it("only when its new revision runs on every replica with no old pod left, as kubectl rollout status says", () => {
    expect(
      workloadReady(deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1 }), "Deployment"),
    ).toBe(true);
    // one replica, surge 1: the old pod is available, the new one never becomes ready
    expect(
      workloadReady(deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 }), "Deployment"),
    ).toBe(false);
    expect(
      workloadReady(
        deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1, observedGeneration: 1 }),
        "Deployment",
      ),
    ).toBe(false);
    expect(
      workloadReady(
        deployment({
          replicas: 1,
          updatedReplicas: 1,
          availableReplicas: 1,
          conditions: [{ type: "Progressing", reason: "ProgressDeadlineExceeded" }],
        }),
        "Deployment",
      ),
    ).toBe(false);
  });

  it("as a DaemonSet when it is updated and available on every node it should run on", () => {
    const ds = (updated: number, available: number) => ({
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: updated,
        numberAvailable: available,
      },
    });
    expect(workloadReady(ds(3, 3), "DaemonSet")).toBe(true);
    expect(workloadReady(ds(3, 2), "DaemonSet")).toBe(false);
    expect(workloadReady(ds(2, 3), "DaemonSet")).toBe(false);
  });
});
