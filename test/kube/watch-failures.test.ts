import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyObjects } from "../../src/kube/apply.js";
import { rolloutImages } from "../../src/kube/rollout.js";
import { type WaitOptions, waitForObjects } from "../../src/kube/watch/wait-for-objects.js";
import type { KubeObject } from "../../src/plan/kubernetes.js";
import { loadStages, STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { createTestCluster, type TestCluster } from "../helpers/kube-cluster.js";
import { testSandbox } from "../helpers/sandbox.js";

const NS = "failures";
let cluster: TestCluster;

beforeAll(async () => {
  const sbx = await testSandbox();
  cluster = await createTestCluster(sbx, [
    { name: "general", nodes: 2 },
    { name: "fragile", nodes: 1 },
  ]);
  await loadStages(sbx.dir, cluster.name, [
    "pod-never-ready",
    "pod-crash-loop",
    "pod-image-pull-failure",
    "node-not-ready",
  ]);
  await applyObjects(cluster.client, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "kubecontrol.io/app": NS } } },
  ]);
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** A small Deployment whose pods follow a KWOK stage (or the sandbox's default: ready at once). */
function deployment(
  name: string,
  o: { stage?: string; pool?: string; progressDeadlineSeconds?: number } = {},
): KubeObject {
  const labels = { "kubecontrol.io/app": NS, "kubecontrol.io/component": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: 2,
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, ...(o.stage ? { [STAGE_LABEL]: o.stage } : {}) } },
        spec: {
          nodeSelector: { "kubecontrol.io/pool": o.pool ?? "general" },
          containers: [
            {
              name: "app",
              image: "registry.local/app:v1",
              readinessProbe: { httpGet: { path: "/healthz", port: 8080 } },
            },
          ],
        },
      },
    },
  };
}

async function deployAndWatch(object: KubeObject, options: WaitOptions) {
  const [applied] = await applyObjects(cluster.client, [object]);
  const started = Date.now();
  const report = await waitForObjects(
    cluster.client,
    [
      {
        kind: "Deployment",
        namespace: NS,
        name: object.metadata.name,
        minGeneration: applied!.object.metadata?.generation ?? 0,
      },
    ],
    options,
  );
  return { outcome: report.outcomes[0]!, decidedMs: report.decidedAt - started };
}

describe("watching a rollout that cannot succeed", () => {
  it("reports pods that run but never pass readiness as NeverReady when its timeout passes", async () => {
    const { outcome, decidedMs } = await deployAndWatch(deployment("never-ready", { stage: "never-ready" }), {
      timeoutMs: { Deployment: 3000 },
    });
    expect(outcome).toMatchObject({ outcome: "timed-out", reason: "NeverReady" });
    expect(outcome.message).toMatch(/readiness probe never passed/);
    expect(outcome.summary).toBe("0/2 available, 2/2 updated");
    expect(decidedMs).toBeGreaterThanOrEqual(3000);
    expect(decidedMs).toBeLessThan(4500);
    expect(outcome.evidence.join("\n")).toMatch(/container app: running, not ready/);
  });

  it("fails on ProgressDeadlineExceeded when the Deployment's own deadline passes first", async () => {
    const { outcome, decidedMs } = await deployAndWatch(
      deployment("slow", { stage: "never-ready", progressDeadlineSeconds: 2 }),
      { timeoutMs: { Deployment: 15_000 } },
    );
    expect(outcome).toMatchObject({ outcome: "failed", reason: "ProgressDeadlineExceeded" });
    expect(decidedMs).toBeLessThan(10_000);
  });

  it("fails a crash-looping pod at once, with its container state as evidence", async () => {
    const { outcome, decidedMs } = await deployAndWatch(deployment("crasher", { stage: "crash-loop" }), {
      timeoutMs: { Deployment: 10_000 },
    });
    expect(outcome).toMatchObject({ outcome: "failed", reason: "CrashLoop" });
    expect(outcome.message).toMatch(/container app is crash-looping \(1 restarts, last exit 1 \(Error\)\)/);
    expect(decidedMs).toBeLessThan(2000);
    expect(outcome.evidence.join("\n")).toMatch(
      /waiting \(CrashLoopBackOff.*last terminated \(Error, exit 1\)/,
    );
  });

  it("fails an image that cannot be pulled at once, naming the image", async () => {
    const { outcome, decidedMs } = await deployAndWatch(
      deployment("no-image", { stage: "image-pull-failure" }),
      {
        timeoutMs: { Deployment: 10_000 },
      },
    );
    expect(outcome).toMatchObject({ outcome: "failed", reason: "ImagePullFailed" });
    expect(outcome.message).toMatch(/cannot pull image registry\.local\/app:v1 \(ImagePullBackOff/);
    expect(decidedMs).toBeLessThan(2000);
  });

  it("fails pods no node can take as Unschedulable once the grace period passes", async () => {
    const { outcome, decidedMs } = await deployAndWatch(deployment("nowhere", { pool: "missing" }), {
      timeoutMs: { Deployment: 10_000 },
      graceMs: 1000,
    });
    expect(outcome).toMatchObject({ outcome: "failed", reason: "Unschedulable" });
    expect(outcome.message).toMatch(/didn't match Pod's node affinity\/selector/);
    expect(decidedMs).toBeLessThan(4000);
  });

  it("fails a rollout onto a pool whose node went NotReady as NodeNotReady", async () => {
    // given a workload running on the fragile pool's one node
    const { outcome: first } = await deployAndWatch(deployment("on-fragile", { pool: "fragile" }), {
      timeoutMs: { Deployment: 10_000 },
    });
    expect(first.outcome).toBe("succeeded");
    // when that node stops being ready, and a new version rolls out
    const nodes = await cluster.client.request<{ items: { metadata: { name: string } }[] }>(
      "GET",
      "/api/v1/nodes",
      {
        query: { labelSelector: "kubecontrol.io/pool=fragile" },
      },
    );
    const node = nodes.items[0]!.metadata.name;
    await cluster.client.request("PATCH", `/api/v1/nodes/${node}`, {
      contentType: "application/merge-patch+json",
      body: { metadata: { labels: { [STAGE_LABEL]: "not-ready" } } },
    });
    // The node lifecycle controller taints a NotReady node; the rollout starts after that, as in life.
    await expect
      .poll(async () => JSON.stringify(await cluster.client.get(`/api/v1/nodes/${node}`)), {
        timeout: 10_000,
        interval: 100,
      })
      .toContain("node.kubernetes.io/not-ready");
    const started = Date.now();
    const report = await rolloutImages(
      cluster.client,
      [{ kind: "Deployment", namespace: NS, name: "on-fragile", images: { app: "registry.local/app:v2" } }],
      { timeoutMs: { Deployment: 10_000 }, graceMs: 1000, undo: false },
    );
    // then the rollout fails for the node, within the grace period and a little
    const outcome = report.watch!.outcomes[0]!;
    expect(outcome).toMatchObject({ outcome: "failed", reason: "NodeNotReady" });
    expect(outcome.message).toMatch(
      /the nodes it may run on are not ready \(ip-[^ ]+ KubeletNotReady: container runtime is down\)/,
    );
    expect(report.watch!.decidedAt - started).toBeLessThan(6000);
  });
});
