import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type KubeResource } from "../../src/kube/client.js";
import { kubeConfigFromFile } from "../../src/kube/cluster-access.js";
import { planApp } from "../../src/plan/plan.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { loadApp } from "../../src/spec/loader.js";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { loadStagesWhenClusterExists } from "../helpers/stages.js";

// End to end: a create whose pods never become Ready fails at verification (exit 7) and leaves
// DNS alone and the colour in place. The pods opt into the sandbox's KWOK stage
// `pod-never-ready` through a component label (components.<c>.labels reach the pod template):
// they run but never pass readiness. deploy.verify.timeout (20 s) is the Deployments' progress
// deadline and the watch's deadline, so the failure comes in seconds.

let p: E2eProject;
let cluster: string;

beforeAll(async () => {
  p = await e2eProject("nready", (spec) =>
    spec
      .replace(
        "      replicas: 2,\n",
        `      replicas: 2,\n      labels: { "${STAGE_LABEL}": "never-ready" },\n`,
      )
      .replace("  dns: {", '  deploy: { verify: { timeout: "20s" } },\n  dns: {'),
  );
  const { app } = await loadApp(path.join(p.root, "apps"), p.app);
  expect(app.components.web?.labels).toEqual({ [STAGE_LABEL]: "never-ready" });
  cluster = planApp({ app, colour: "blue", version: "x" }).cluster;
}, 180_000);

afterAll(async () => {
  await p?.cleanup();
}, 180_000);

/** Loads the never-ready stage into the colour's control plane as soon as it exists. */
function loadStageWhenClusterExists(done: () => boolean): Promise<number | undefined> {
  return loadStagesWhenClusterExists(p.sbx.dir, cluster, ["pod-never-ready"], done);
}

function adminClient(): KubeClient {
  return new KubeClient(kubeConfigFromFile(adminKubeconfigPath(path.join(p.sbx.dir, "k8s"), cluster)));
}

describe("kubecontrol create, pods never Ready", () => {
  it("fails at verification with exit 7, DNS untouched, the colour left with the teardown hint", async () => {
    // given an app whose pods never pass readiness; when create runs
    let finished = false;
    const t0 = Date.now();
    const created = p.kubecontrol(["create", p.app, "--yes"]).then((r) => {
      finished = true;
      return r;
    });
    const stageLoadedAfterMs = await loadStageWhenClusterExists(() => finished);
    const done = await created;
    const tookMs = Date.now() - t0;
    console.log(
      `create never-ready: exit ${done.status} after ${tookMs} ms (stage loaded ${stageLoadedAfterMs} ms in)`,
    );
    if (process.env.KC_TEST_SHOW_OUTPUT) console.log(done.stderr);

    // then it fails at verification, and says how to remove the colour
    expect(done.status, done.stderr).toBe(7);
    expect(done.stderr).toContain(`kubecontrol teardown ${p.app} --colour blue --force`);
    expect(done.stderr).toMatch(/deployment\/web/);
    // and the nodes were Ready before the objects were applied, which did happen
    expect(done.stderr).toMatch(/wait-for-nodes: done|wait-for-nodes: no change/);
    expect(done.stderr).toMatch(/ensure-kube-objects/);

    // and the pods are there, running and not Ready (the stage, not a missing node or image)
    const pods = await adminClient().request<{ items: KubeResource[] }>(
      "GET",
      `/api/v1/namespaces/${p.app}/pods`,
      { query: { labelSelector: "kubecontrol.io/component=web" } },
    );
    expect(pods.items.length).toBeGreaterThanOrEqual(2);
    for (const pod of pods.items) {
      const status = pod.status as { phase?: string; conditions?: { type: string; status: string }[] };
      expect(status.phase).toBe("Running");
      expect(status.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    }

    // and DNS has no record for the colour
    const records = await weightedRecords(p.sbx, `${p.app}.example.com`);
    expect(records.filter((r) => r.SetIdentifier === `kc-${p.app}-blue`)).toEqual([]);

    // and the colour is left in place
    const described = (await awsCli(p.sbx, ["eks", "describe-cluster", "--name", cluster])) as {
      cluster: { status: string };
    };
    expect(described.cluster.status).toBe("ACTIVE");

    // and history has the run, failed
    const history = await p.kubecontrol(["history", p.app, "-o", "json"]);
    expect(history.status, history.stderr).toBe(0);
    const runs = (
      JSON.parse(history.stdout) as { runs: { command: string; result: string; colour: string }[] }
    ).runs;
    expect(runs).toContainEqual(
      expect.objectContaining({ command: "create", result: "failed", colour: "blue" }),
    );
  }, 240_000);

  it("tears the colour down with the command the hint names", async () => {
    const done = await p.kubecontrol(["teardown", p.app, "--colour", "blue", "--force", "--yes"]);
    expect(done.status, done.stderr).toBe(0);
    const clusters = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
    expect(clusters.clusters).not.toContain(cluster);
  }, 120_000);
});
