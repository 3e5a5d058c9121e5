import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { binariesPresent, ensureBinaries } from "./k8s/assets.js";
import { deleteControlPlane, listControlPlanes } from "./k8s/control-plane.js";
import { entryDir, startNodeComponent } from "./node-entry.js";

/**
 * The cluster watcher (src/sandbox/k8s/watcher-main.ts): a kwok control plane per EKS cluster,
 * the EKS token webhook, nodes from tagged Auto Scaling Groups. Builds the Kubernetes binaries
 * first when the cache lacks them (minutes, once per machine).
 */
export const clusterWatcherComponent: SandboxComponent = {
  name: "cluster-watcher",
  description:
    "a Kubernetes control plane per EKS cluster (kwok), EKS token webhook, nodes from Auto Scaling Groups",
  readyTimeoutMs: 30_000,
  sources: (ctx) => [
    entryDir("k8s/watcher-main"),
    path.join(ctx.root, "sandbox", "k8s", "stages"),
    path.join(ctx.root, "sandbox", "k8s", "access-policies.yaml"),
  ],
  async start(ctx) {
    const moto = ctx.started.moto;
    if (!moto?.address)
      throw new KubecontrolError(
        "INTERNAL",
        "the cluster watcher starts after moto, whose address is unknown",
      );
    const expected = await ensureBinaries({ build: false });
    if (!binariesPresent(expected)) {
      ctx.note(
        `building Kubernetes, etcd and kwok from the Go module proxy into ${expected} (once; about 6 minutes)`,
      );
    }
    const binDir = await ensureBinaries();
    const record = await startNodeComponent(
      ctx,
      "cluster-watcher",
      "k8s/watcher-main",
      [
        "--sandbox-dir",
        ctx.paths.dir,
        "--moto-url",
        moto.address,
        "--bin-dir",
        binDir,
        "--region",
        ctx.region,
      ],
      { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}` },
    );
    return { ...record, address: `http://127.0.0.1:${record.port}` };
  },
  health(record) {
    return probe(`${record.address}/healthz`);
  },
  async afterStop(_record, ctx) {
    // The watcher removes its control planes on SIGTERM; these are what a killed one left behind.
    const binDir = await ensureBinaries({ build: false });
    const host = { k8sDir: path.join(ctx.paths.dir, "k8s"), binDir, kubeVersion: "", webhookBaseUrl: "" };
    for (const name of await listControlPlanes(host)) await deleteControlPlane(host, name);
  },
};
