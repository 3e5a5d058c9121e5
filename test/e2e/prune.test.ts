import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.js";
import { kubeConfigFromFile } from "../../src/kube/cluster-access.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";

// Objects removed from the spec are removed from the cluster by the next deployment: the
// Kubernetes step prunes what kubecontrol made for the app and the plan no longer has.

const extra = `    extra: {
      pool: "general",
      replicas: 1,
      containers: [{ name: "extra", image: "app", resources: { cpu: "50m", memory: "32Mi" } }],
    },
  },
  services: {`;

let p: E2eProject;

beforeAll(async () => {
  p = await e2eProject("prune", (spec) => spec.replace("  },\n  services: {", extra));
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

async function extraDeployment(): Promise<unknown> {
  const client = new KubeClient(
    kubeConfigFromFile(adminKubeconfigPath(path.join(p.sbx.dir, "k8s"), `kc-${p.app}-blue`)),
  );
  try {
    return await client.get(`/apis/apps/v1/namespaces/${p.app}/deployments/extra`);
  } finally {
    client.close();
  }
}

describe("a component removed from the spec", () => {
  it("is pruned by the next create, and nothing else is", async () => {
    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    expect(await extraDeployment()).toBeDefined();

    // when the component leaves the spec and create runs again
    p.writeSpec((spec) => spec.replace(extra, "  },\n  services: {"));
    const again = await p.kubecontrol(["create", p.app, "--yes"]);

    // then its Deployment is gone, and the rest is as it was
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`ensure-kube-objects: needed: .*prune deployment/${p.app}/extra`),
    );
    expect(await extraDeployment()).toBeUndefined();
    expect(again.stderr).toMatch(/verify-workloads: no change: all \d+ ready/);
  }, 240_000);
});
