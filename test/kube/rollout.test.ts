import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import type { StepContext } from "../../src/engine/step.js";
import { rollOutImagesStep } from "../../src/engine/steps/kube/rollout.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { applyObjects } from "../../src/kube/apply.js";
import type { KubeResource } from "../../src/kube/client.js";
import { rolloutError, rolloutImages } from "../../src/kube/rollout.js";
import { waitForObjects } from "../../src/kube/watch/wait-for-objects.js";
import type { KubeObject } from "../../src/plan/kubernetes.js";
import { loadStages, STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { createTestCluster, type TestCluster } from "../helpers/kube-cluster.js";
import { testSandbox } from "../helpers/sandbox.js";

const NS = "rollout";
const V1 = "registry.local/app:v1";
const V2 = "registry.local/app:v2";
const BROKEN = "registry.local/app:broken";
let cluster: TestCluster;

beforeAll(async () => {
  const sbx = await testSandbox();
  cluster = await createTestCluster(sbx, [{ name: "general", nodes: 3 }]);
  await loadStages(sbx.dir, cluster.name, [path.join(import.meta.dirname, "stages/image-gate.yaml")]);
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** A workload whose pods become ready unless they run BROKEN (test/kube/stages/image-gate.yaml). */
function workload(kind: "Deployment" | "DaemonSet", name: string): KubeObject {
  const labels = { "kubecontrol.io/app": NS, "kubecontrol.io/component": name };
  const template = {
    metadata: { labels: { ...labels, [STAGE_LABEL]: "image-gate" } },
    spec: {
      nodeSelector: { "kubecontrol.io/pool": "general" },
      containers: [{ name: "app", image: V1 }],
    },
  };
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: NS, labels },
    spec: {
      ...(kind === "Deployment" ? { replicas: 3 } : {}),
      selector: { matchLabels: labels },
      template,
    },
  };
}

async function deploy(kind: "Deployment" | "DaemonSet", name: string): Promise<void> {
  const applied = await applyObjects(cluster.client, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "kubecontrol.io/app": NS } } },
    workload(kind, name),
  ]);
  const report = await waitForObjects(cluster.client, [
    { kind, namespace: NS, name, minGeneration: applied[1]!.object.metadata?.generation ?? 0 },
  ]);
  expect(report.ok).toBe(true);
}

async function liveImages(kind: "deployments" | "daemonsets", name: string): Promise<string[]> {
  const live = await cluster.client.get<
    KubeResource & { spec: { template: { spec: { containers: { image: string }[] } } } }
  >(`/apis/apps/v1/namespaces/${NS}/${kind}/${name}`);
  return live!.spec.template.spec.containers.map((c) => c.image);
}

async function podImages(component: string): Promise<string[]> {
  const pods = await cluster.client.request<{ items: { spec: { containers: { image: string }[] } }[] }>(
    "GET",
    `/api/v1/namespaces/${NS}/pods`,
    { query: { labelSelector: `kubecontrol.io/component=${component}` } },
  );
  return pods.items.map((p) => p.spec.containers[0]!.image).sort();
}

describe("rolling update", () => {
  it("patches the image, says what it waits for, and succeeds once every new pod is available", async () => {
    await deploy("Deployment", "web");
    const events: KubecontrolEvent[] = [];
    const step = rollOutImagesStep(
      cluster.client,
      [{ kind: "Deployment", namespace: NS, name: "web", images: { app: V2 } }],
      {
        timeoutMs: { Deployment: 20_000 },
      },
    );
    const run = await runSteps([step], { emit: (e) => events.push(e) });
    expect(run.ok).toBe(true);
    expect(await liveImages("deployments", "web")).toEqual([V2]);
    const waits = events
      .filter((e) => e.type === "step.waiting")
      .map((e) => (e as { reason: string }).reason);
    expect(waits.some((w) => /^deployment\/web \(\d\/3 available, \d\/3 updated/.test(w))).toBe(true);
    const done = events.find((e) => e.type === "step.succeeded") as { summary: string; changed: boolean };
    expect(done).toMatchObject({
      changed: true,
      summary: "rolled out deployment/web: deployment/web 3/3 available",
    });
    await expect.poll(() => podImages("web"), { timeout: 5000, interval: 100 }).toEqual([V2, V2, V2]);

    // and the same rollout again has nothing to do
    const again = await runSteps([step], {});
    expect(again.steps[0]).toMatchObject({ status: "succeeded", changed: false });
  });

  it("acts in apply and waits in wait: apply patches and returns, wait watches the new pods to availability", async () => {
    await deploy("Deployment", "split");
    const step = rollOutImagesStep(
      cluster.client,
      [{ kind: "Deployment", namespace: NS, name: "split", images: { app: V2 } }],
      { timeoutMs: { Deployment: 20_000 } },
    );
    const ctx: StepContext = {
      signal: new AbortController().signal,
      waiting: () => {},
      retrying: () => {},
      log: () => {},
      result: () => {
        throw new Error("the rollout step reads no other step's result");
      },
    };
    const check = await step.check(ctx);
    if (check.satisfied) throw new Error("the new image is not in place yet");
    const applied = await step.apply!(ctx, check.needed);
    expect(applied?.patched.patched).toEqual(["deployment/split"]);
    expect(applied?.report).toBeUndefined();
    expect(await liveImages("deployments", "split")).toEqual([V2]);
    const waited = await step.wait!(ctx, applied);
    expect(waited?.report).toMatchObject({ ok: true, patched: ["deployment/split"] });
    expect(waited?.report?.watch?.outcomes).toEqual([expect.objectContaining({ outcome: "succeeded" })]);
  });

  it("undoes a rollout whose new image cannot be pulled, and says what failed and that it was undone", async () => {
    // given web serving V2 (the previous test), when BROKEN is rolled out
    const report = await rolloutImages(
      cluster.client,
      [{ kind: "Deployment", namespace: NS, name: "web", images: { app: BROKEN } }],
      { timeoutMs: { Deployment: 20_000 } },
    );
    // then it failed for the image, the old template is back, and everything is available again
    expect(report.ok).toBe(false);
    expect(report.watch!.outcomes[0]).toMatchObject({ outcome: "failed", reason: "ImagePullFailed" });
    expect(report.undo).toMatchObject({
      ok: true,
      restored: [{ ref: "deployment/web", images: { app: V2 } }],
    });
    expect(await liveImages("deployments", "web")).toEqual([V2]);
    await expect.poll(() => podImages("web"), { timeout: 5000, interval: 100 }).toEqual([V2, V2, V2]);
    const error = rolloutError(report);
    expect(error.code).toBe("VERIFY_FAILED");
    expect(error.message).toMatch(
      /deployment\/web failed: ImagePullFailed: pod web-[a-z0-9-]+: container app cannot pull image registry\.local\/app:broken/,
    );
    expect(error.message).toContain(
      "rolled back deployment/web to registry.local/app:v2, and it is available again",
    );
    expect(error.details?.undone).toBe(true);
  });

  it("rolls a DaemonSet forward, and back when the new image fails", async () => {
    await deploy("DaemonSet", "agent");
    const ok = await rolloutImages(
      cluster.client,
      [{ kind: "DaemonSet", namespace: NS, name: "agent", images: { app: V2 } }],
      { timeoutMs: { DaemonSet: 20_000 } },
    );
    expect(ok.watch!.outcomes[0]).toMatchObject({ outcome: "succeeded", summary: "3/3 available" });
    const failed = await rolloutImages(
      cluster.client,
      [{ kind: "DaemonSet", namespace: NS, name: "agent", images: { app: BROKEN } }],
      { timeoutMs: { DaemonSet: 20_000 } },
    );
    expect(failed.watch!.outcomes[0]).toMatchObject({ outcome: "failed", reason: "ImagePullFailed" });
    expect(failed.undo?.ok).toBe(true);
    expect(await liveImages("daemonsets", "agent")).toEqual([V2]);
    await expect.poll(() => podImages("agent"), { timeout: 5000, interval: 100 }).toEqual([V2, V2, V2]);
  });
});
