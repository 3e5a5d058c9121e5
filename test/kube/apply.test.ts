import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import { stepRef } from "../../src/engine/step.js";
import { type ApplyStepResult, ensureKubeObjectsStep } from "../../src/engine/steps/kube/apply.js";
import { verifyWorkloadsStep } from "../../src/engine/steps/verify/workloads.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { applyObjects } from "../../src/kube/apply.js";
import { pruneObjects } from "../../src/kube/prune.js";
import { WATCHED_KINDS, type WatchedKind, waitForObjects } from "../../src/kube/watch/wait-for-objects.js";
import type { KubeObject } from "../../src/plan/kubernetes.js";
import { planApp } from "../../src/plan/plan.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { exampleApp } from "../helpers/apps.js";
import { createTestCluster, type TestCluster } from "../helpers/kube-cluster.js";
import { testSandbox } from "../helpers/sandbox.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await createTestCluster(await testSandbox(), [
    { name: "general", nodes: 2 },
    { name: "web", nodes: 3 },
    {
      name: "worker",
      nodes: 2,
      instanceType: "c5.xlarge",
      labels: { workload: "batch" },
      taints: [{ key: "workload", value: "batch", effect: "NoSchedule" }],
    },
  ]);
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
});

function objectsOf(app: ResolvedKubeApp): KubeObject[] {
  return planApp({ app, colour: "blue", version: "v1", image: `registry.local/${app.name}:v1` }).kubernetes;
}

function watchTargets(applied: Awaited<ReturnType<typeof applyObjects>>) {
  return applied
    .filter((a) => (WATCHED_KINDS as readonly string[]).includes(a.kind))
    .map((a) => ({
      kind: a.kind as WatchedKind,
      namespace: a.namespace!,
      name: a.name,
      minGeneration: a.object.metadata?.generation ?? 0,
    }));
}

describe("server-side apply", () => {
  it.each(["hello", "webapp"] as const)(
    "passes every object the plan makes for %s through a server-side dry run",
    async (name) => {
      // given the app's namespace (a dry run cannot create what the rest is checked inside)
      const objects = objectsOf(await exampleApp(name));
      await applyObjects(
        cluster.client,
        objects.filter((o) => o.kind === "Namespace"),
      );
      // when the whole plan is applied with dryRun=All
      const results = await applyObjects(cluster.client, objects, { dryRun: true });
      // then the server checked every object, would create all but the namespace, and kept none
      expect(results.map((r) => r.ref)).toEqual(
        objects.map(
          (o) =>
            `${o.kind.toLowerCase()}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`,
        ),
      );
      expect(results.every((r) => r.checked)).toBe(true);
      expect(results.filter((r) => r.action !== "created").map((r) => r.kind)).toEqual(["Namespace"]);
      const deployment = await cluster.client.get(`/apis/apps/v1/namespaces/${name}/deployments/web`);
      expect(deployment).toBeUndefined();
    },
  );

  it("applies hello in dependency order, watches it to success, and a second apply changes nothing", async () => {
    const objects = objectsOf(await exampleApp("hello"));
    const applied = await applyObjects(cluster.client, objects);
    expect(applied.find((a) => a.kind === "Deployment" && a.name === "web")?.action).toBe("created");
    const waiting: string[] = [];
    const report = await waitForObjects(cluster.client, watchTargets(applied), {
      timeoutMs: { Deployment: 30_000, DaemonSet: 30_000, Service: 30_000 },
      onWaiting: (r) => waiting.push(r),
    });
    expect(report.outcomes.map((o) => [o.ref, o.outcome])).toEqual([
      ["deployment/web", "succeeded"],
      ["deployment/metrics-agent", "succeeded"],
      ["daemonset/log-router", "succeeded"],
      ["service/web", "succeeded"],
    ]);
    // A Service needs one ready endpoint to serve (krane); the second may arrive just after.
    expect(report.outcomes.find((o) => o.ref === "service/web")?.summary).toMatch(/^[12] ready endpoints?$/);
    const again = await applyObjects(cluster.client, objects);
    expect(again.filter((a) => a.action !== "unchanged")).toEqual([]);
  });

  it("shows a dry run's change as a diff against the live object and persists nothing", async () => {
    const app = await exampleApp("hello");
    app.components.web!.replicas = 3;
    const results = await applyObjects(cluster.client, objectsOf(app), { dryRun: true });
    const web = results.find((r) => r.kind === "Deployment" && r.name === "web")!;
    expect(web.action).toBe("configured");
    expect(web.diff).toContain("-   replicas: 2");
    expect(web.diff).toContain("+   replicas: 3");
    expect(results.filter((r) => r.action !== "unchanged").map((r) => r.ref)).toEqual([
      "deployment/hello/web",
    ]);
    const live = await cluster.client.get<{ spec: { replicas: number } }>(
      "/apis/apps/v1/namespaces/hello/deployments/web",
    );
    expect(live?.spec.replicas).toBe(2);
  });
});

describe("prune", () => {
  it("removes exactly the app's objects that left the spec, and nothing it did not make", async () => {
    // given webapp applied in full, plus objects carrying its label that kubecontrol must not touch
    const full = await exampleApp("webapp");
    await applyObjects(cluster.client, objectsOf(full));
    const foreign = { apiVersion: "v1", kind: "ConfigMap", data: { owner: "someone else" } };
    await cluster.client.request("POST", "/api/v1/namespaces/webapp/configmaps", {
      query: { fieldManager: "someone-else" },
      body: { ...foreign, metadata: { name: "hand-made", labels: { "kubecontrol.io/app": "webapp" } } },
    });
    await applyObjects(cluster.client, [
      {
        ...foreign,
        metadata: {
          name: "webapp-in-kube-system",
          namespace: "kube-system",
          labels: { "kubecontrol.io/app": "webapp" },
        },
      },
    ]);
    // when the worker component leaves the spec
    const smaller = await exampleApp("webapp");
    delete smaller.components.worker;
    const keep = objectsOf(smaller);
    const dry = await pruneObjects(cluster.client, { app: "webapp", keep, dryRun: true });
    const pruned = await pruneObjects(cluster.client, { app: "webapp", keep });
    // then its Deployment and disruption budget go, and only they
    const expected = ["poddisruptionbudget/webapp/worker", "deployment/webapp/worker"];
    expect(dry.map((p) => p.ref)).toEqual(expected);
    expect(pruned.map((p) => p.ref)).toEqual(expected);
    expect(await cluster.client.get("/apis/apps/v1/namespaces/webapp/deployments/worker")).toBeUndefined();
    expect(await cluster.client.get("/apis/apps/v1/namespaces/webapp/deployments/web")).toBeDefined();
    expect(await cluster.client.get("/api/v1/namespaces/webapp/configmaps/hand-made")).toBeDefined();
    expect(
      await cluster.client.get("/api/v1/namespaces/kube-system/configmaps/webapp-in-kube-system"),
    ).toBeDefined();
    // and pruning again finds nothing more
    expect(await pruneObjects(cluster.client, { app: "webapp", keep })).toEqual([]);
  });
});

describe("ensure-kube-objects and verify-workloads steps", () => {
  it("apply what the server's dry run says differs, judge readiness on every run, and are a no-op the second time", async () => {
    const app = await exampleApp("hello");
    app.components.web!.replicas = 3;
    const steps = () => [
      ensureKubeObjectsStep(cluster.client, objectsOf(app), { app: "hello", prune: true }),
      verifyWorkloadsStep({
        app: "hello",
        client: async () => cluster.client,
        objects: objectsOf(app),
        applied: stepRef<ApplyStepResult>("ensure-kube-objects"),
        dependsOn: ["ensure-kube-objects"],
        timeoutMs: { Deployment: 30_000, DaemonSet: 30_000, Service: 30_000 },
      }),
    ];
    const events: KubecontrolEvent[] = [];
    const first = await runSteps(steps(), { emit: (e) => events.push(e) });
    expect(first.ok, String(first.steps.find((s) => s.error)?.error)).toBe(true);
    const checked = events.find((e) => e.type === "step.checked") as { satisfied: boolean; reason: string };
    expect(checked).toMatchObject({ satisfied: false, reason: "change deployment/hello/web" });
    expect(first.steps[0]!.summary).toBe("0 created, 1 changed, 11 unchanged, 0 pruned");
    expect(first.steps[1]!.summary).toMatch(/^all \d+ ready$/);
    // when run again: nothing to apply, and readiness is judged again (and holds)
    const again: KubecontrolEvent[] = [];
    const second = await runSteps(steps(), { emit: (e) => again.push(e) });
    expect(second.steps.map((s) => [s.status, s.changed])).toEqual([
      ["succeeded", false],
      ["succeeded", false],
    ]);
    expect(again).toContainEqual(
      expect.objectContaining({ type: "step.checked", step: "verify-workloads", satisfied: true }),
    );
  });
});
