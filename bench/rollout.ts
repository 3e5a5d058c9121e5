#!/usr/bin/env -S node --import jiti/register
// Rolling update of 3 Deployments × 10 replicas on one sandbox EKS cluster: kubecontrol's
// patch-and-watch (src/kube, in-process) against `kubectl set image` + `kubectl rollout status`
// (three pairs in parallel), alternating on the same Deployments, several rounds. Pods become
// ready 300 ms after scheduling (bench/stages/pod-ready-after-delay.yaml). Prints both medians,
// their ratio (goal ≤ 1.0) and kubecontrol's detection latency: from the moment an independent
// pod watch sees the round's last pod Ready to kubecontrol's step.succeeded event (goal median ≤ 100 ms).
//
//   node --import jiti/register bench/rollout.ts        ROUNDS=5 by default; BENCH_JSON=1 adds a JSON line
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { runSteps } from "../src/engine/runner.js";
import type { KubecontrolEvent } from "../src/io/events.js";
import { applyObjects } from "../src/kube/apply.js";
import { KubeClient, type KubeResource } from "../src/kube/client.js";
import { presignEksToken } from "../src/kube/eks-token.js";
import { rollOutImagesStep } from "../src/kube/rollout-step.js";
import { ListWatch } from "../src/kube/watch/list-watch.js";
import { isReady } from "../src/kube/watch/verdict.js";
import { waitForObjects } from "../src/kube/watch/wait-for-objects.js";
import type { KubeObject } from "../src/plan/kubernetes.js";
import { ensureBinaries } from "../src/sandbox/k8s/assets.js";
import { loadStages, STAGE_LABEL } from "../src/sandbox/k8s/stages.js";
import { createTestCluster } from "../test/helpers/kube-cluster.js";
import { ensureTestSandbox } from "../test/helpers/sandbox.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const NS = "bench";
const NAMES = ["bench-a", "bench-b", "bench-c"];
const REPLICAS = 10;
const image = (n: number) => `registry.local/bench:v${n}`;

function deployment(name: string): KubeObject {
  const labels = { "kubecontrol.io/app": NS, "kubecontrol.io/component": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, [STAGE_LABEL]: "bench-delayed-ready" } },
        spec: {
          nodeSelector: { "kubecontrol.io/pool": "general" },
          containers: [{ name: "app", image: image(0) }],
        },
      },
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  const sbx = await ensureTestSandbox();
  const cluster = await createTestCluster(sbx, [{ name: "general", nodes: 4 }]);
  const watch: { stop(): void }[] = [];
  try {
    await loadStages(sbx.dir, cluster.name, [
      path.join(import.meta.dirname, "stages/pod-ready-after-delay.yaml"),
    ]);
    const client = cluster.client;
    const applied = await applyObjects(client, [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "kubecontrol.io/app": NS } } },
      ...NAMES.map(deployment),
    ]);
    const first = await waitForObjects(
      client,
      applied.slice(1).map((a) => ({ kind: "Deployment" as const, namespace: NS, name: a.name })),
    );
    if (!first.ok)
      throw new Error(`bench Deployments did not become available: ${JSON.stringify(first.outcomes)}`);

    // kubectl gets the same kind of credential: a presigned EKS token (static, so no exec plugin per call).
    const { token } = await presignEksToken({
      clusterName: cluster.name,
      region: sbx.region,
      credentials: cluster.credentials,
      endpoint: sbx.endpoint,
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), "kc-bench-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "bench",
            cluster: {
              server: cluster.access.cluster.endpoint,
              "certificate-authority-data": cluster.access.cluster.certificateAuthority,
            },
          },
        ],
        users: [{ name: "bench", user: { token } }],
        contexts: [{ name: "bench", context: { cluster: "bench", user: "bench" } }],
        "current-context": "bench",
      }),
      { mode: 0o600 },
    );
    const kubectl = `${await ensureBinaries({ build: false })}/kubectl`;
    const { stdout: version } = await run(kubectl, ["version", "--client", "-o", "json"]);
    const kubectlVersion = (JSON.parse(version) as { clientVersion: { gitVersion: string } }).clientVersion
      .gitVersion;

    // The independent observer: its own client and watch, noting when each pod is first seen Ready.
    const observer = new KubeClient(cluster.access.kubeConfig);
    const readyAt = new Map<string, { image: string; at: number }>();
    const pods = new ListWatch(observer, {
      path: `/api/v1/namespaces/${NS}/pods`,
      onChange: (_type, pod: KubeResource) => {
        const name = pod.metadata?.name ?? "";
        if (!readyAt.has(name) && isReady(pod)) {
          const img = (pod.spec as { containers: { image: string }[] }).containers[0]!.image;
          readyAt.set(name, { image: img, at: Date.now() });
        }
      },
    });
    watch.push(pods, { stop: () => observer.close() });
    await pods.synced;
    const lastReady = (img: string) =>
      Math.max(...[...readyAt.values()].filter((r) => r.image === img).map((r) => r.at));

    const kc: number[] = [];
    const kctl: number[] = [];
    const latency: number[] = [];
    const kctlLatency: number[] = [];
    let version_ = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      // Who goes first alternates, so neither always meets a cluster still settling from the other.
      const order = round % 2 === 1 ? ["kubecontrol", "kubectl"] : ["kubectl", "kubecontrol"];
      for (const who of order) {
        version_++;
        const img = image(version_);
        if (who === "kubecontrol") {
          const events: KubecontrolEvent[] = [];
          const step = rollOutImagesStep(
            client,
            NAMES.map((name) => ({ kind: "Deployment" as const, namespace: NS, name, images: { app: img } })),
            { timeoutMs: { Deployment: 60_000 } },
          );
          const t0 = Date.now();
          const report = await runSteps([step], { emit: (e) => events.push(e) });
          const done = events.find((e) => e.type === "step.succeeded");
          if (!report.ok || !done)
            throw new Error(`kubecontrol rollout failed: ${JSON.stringify(report.steps)}`);
          kc.push(done.at - t0);
          latency.push(done.at - lastReady(img));
        } else {
          const t0 = Date.now();
          await Promise.all(
            NAMES.map(async (name) => {
              await run(kubectl, [
                "--kubeconfig",
                kubeconfig,
                "-n",
                NS,
                "set",
                "image",
                `deployment/${name}`,
                `app=${img}`,
              ]);
              await run(kubectl, [
                "--kubeconfig",
                kubeconfig,
                "-n",
                NS,
                "rollout",
                "status",
                `deployment/${name}`,
                "--timeout=60s",
              ]);
            }),
          );
          const end = Date.now();
          kctl.push(end - t0);
          kctlLatency.push(end - lastReady(img));
        }
      }
      process.stderr.write(
        `round ${round}: kubecontrol ${fmt(kc.at(-1)!)} (detected +${fmt(latency.at(-1)!)}), kubectl ${fmt(kctl.at(-1)!)} (exited +${fmt(kctlLatency.at(-1)!)})\n`,
      );
    }
    const ratio = median(kc) / median(kctl);
    console.log(
      `rolling update, ${NAMES.length} Deployments × ${REPLICAS} replicas, pods ready 300 ms after scheduling, ${ROUNDS} rounds`,
    );
    console.log(`kubecontrol patch-and-watch            median ${fmt(median(kc))}`);
    console.log(
      `kubectl set image + rollout status     median ${fmt(median(kctl))}   (${kubectlVersion}, 3 pairs in parallel)`,
    );
    console.log(`ratio kubecontrol / kubectl            ${ratio.toFixed(2)} (goal ≤ 1.00)`);
    console.log(
      `detection latency, last pod Ready → kubecontrol success event: median ${fmt(median(latency))}, max ${fmt(Math.max(...latency))} (goal median ≤ 100 ms)`,
    );
    console.log(`  (kubectl: last pod Ready → last rollout status exit: median ${fmt(median(kctlLatency))})`);
    if (process.env.BENCH_JSON) {
      console.log(
        JSON.stringify({
          kubecontrolMs: kc,
          kubectlMs: kctl,
          ratio,
          detectionLatencyMs: latency,
          kubectlExitLatencyMs: kctlLatency,
        }),
      );
    }
  } finally {
    for (const w of watch) w.stop();
    await cluster.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
