#!/usr/bin/env -S node --import jiti/register
// Rolling update of an app's 3 Deployments × 10 replicas on its live sandbox cluster, as users
// run it: `kubecontrol rollout <app> --version <commit>` (bin/kubecontrol, its own process)
// against `kubectl set image` + `kubectl rollout status` (three pairs in parallel) on the same
// Deployments, alternating who goes first, after one untimed warm-up round each. The app is made
// by `kubecontrol create` (bench/rollout-app.ts); every version's image is built and in ECR before
// the rounds (kubecontrol finds it there, kubectl is given its reference), so neither side builds.
// Pods become ready 300 ms after scheduling (bench/stages/pod-ready-after-delay.yaml).
//
// Prints both medians, their ratio (goal ≤ 1.05), where kubecontrol's time goes (from its --json
// events and bench/rollout-probe.mjs, which notes every HTTP request of the CLI process: start,
// AWS calls, cluster access, patch, watch, finish), and the detection latency: from the moment an
// independent pod watch sees the round's last new pod Ready to kubecontrol's step.succeeded event.
//
//   npm run bench:rollout            ROUNDS=5 by default (5–7 is plenty); BENCH_JSON=1 adds a JSON
//                                    line; KEEP=1 keeps the app and the project
// Uses the test sandbox (.sandbox/test, or $KUBECONTROL_TEST_SANDBOX), brought up when down.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { KubecontrolEvent } from "../src/io/events.js";
import { KubeClient, type KubeResource } from "../src/kube/client.js";
import { kubeConfigFromFile } from "../src/kube/cluster-access.js";
import { ListWatch } from "../src/kube/watch/list-watch.js";
import { isReady } from "../src/kube/watch/verdict.js";
import { adminKubeconfigPath } from "../src/sandbox/k8s/control-plane.js";
import { loadStages } from "../src/sandbox/k8s/stages.js";
import { removeApp } from "../test/helpers/e2e-project.js";
import { spawnCli } from "../test/helpers/e2e-runs.js";
import { uniqueName } from "../test/helpers/sandbox.js";
import { COMPONENTS, REPLICAS, readyAfterDelayStage, specSource } from "./rollout-app.js";
import { type BenchProject, benchProject, kubecontrolJson, kubectlFor } from "./sandbox-bench.js";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const probe = pathToFileURL(path.join(import.meta.dirname, "rollout-probe.mjs")).href;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

interface ProbeRequest {
  scheme: string;
  method: string;
  host: string;
  path: string;
  start: number;
  headers?: number;
  end?: number;
  status?: number;
}

/** Where one kubecontrol rollout's wall time went, in ms. */
interface Breakdown {
  /** spawn → the process's first HTTP request: Node, module loading, config, spec, store, git. */
  start: number;
  /** AWS requests: their count, and the wall time while at least one was in flight. */
  awsCalls: number;
  aws: number;
  /** Kubernetes reads before the patch (discovery, live workloads), in flight. */
  kubeReads: number;
  /** First PATCH sent → last PATCH answered. */
  patch: number;
  /** Last image PATCH answered → the watch's verdict (the version annotation's PATCH is sent). */
  watch: number;
  /** The version annotation on the rolled workloads, until the step's success event. */
  annotate: number;
  /** Success event → process exit (the run's record, the lease, the store, exit). */
  finish: number;
  /** The rest: waits between those (lease, journal writes, planning, token presign). */
  other: number;
}

/** Wall time covered by a set of intervals. */
function covered(intervals: [number, number][]): number {
  let total = 0;
  let until = Number.NEGATIVE_INFINITY;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= until) continue;
    total += b - Math.max(a, until);
    until = b;
  }
  return total;
}

interface RoundResult {
  wallMs: number;
  successAt: number;
  exitAt: number;
  breakdown: Breakdown;
}

/** One `kubecontrol rollout` as its own process, with --json events and the request probe. */
async function kubecontrolRollout(bench: BenchProject, commit: string, round: string): Promise<RoundResult> {
  const timings = path.join(bench.root, `timings-${round}.json`);
  const {
    status,
    stdout,
    stderr,
    startedAt: t0,
    finishedAt: exitAt,
    docs,
  } = await kubecontrolJson(bench, ["rollout", bench.name, "--version", commit, "--yes"], {
    probe,
    env: { KC_BENCH_TIMINGS_FILE: timings },
  });
  const events = docs as (KubecontrolEvent & { type: string; step?: string; at?: number })[];
  const done = events.find((e) => e.type === "step.succeeded" && e.step === "roll-out-images") as
    | Extract<KubecontrolEvent, { type: "step.succeeded" }>
    | undefined;
  if (status !== 0 || !done || !done.changed)
    throw new Error(
      `kubecontrol rollout exited ${status} (rolled: ${done?.changed})\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
    );
  const probeOut = JSON.parse(readFileSync(timings, "utf8")) as { requests: ProbeRequest[] };
  const reqs = probeOut.requests.filter((r) => r.end !== undefined);
  // The sandbox's AWS endpoint is plain HTTP on loopback; its clusters' API servers are HTTPS.
  const aws = reqs.filter((r) => r.scheme === "http");
  const kube = reqs.filter((r) => !aws.includes(r));
  // The image patches go out together; the version annotation's patches follow the watch.
  const patches = kube.filter((r) => r.method === "PATCH").sort((x, y) => x.start - y.start);
  const afterPatches = kube.find((r) => r.method !== "PATCH" && r.start > patches[0]!.start);
  const imagePatches = patches.filter((r) => !afterPatches || r.start < afterPatches.start);
  const notePatches = patches.filter((r) => !imagePatches.includes(r));
  const firstPatch = imagePatches[0]!.start;
  const lastPatch = Math.max(...imagePatches.map((r) => r.end!));
  const watchEnd = notePatches[0]?.start ?? done.at;
  const span = (rs: ProbeRequest[]) => covered(rs.map((r) => [r.start, r.end!] as [number, number]));
  const first = Math.min(...reqs.map((r) => r.start));
  const b: Omit<Breakdown, "other"> = {
    start: first - t0,
    awsCalls: aws.length,
    aws: span(aws),
    kubeReads: span(kube.filter((r) => r.start < firstPatch)),
    patch: lastPatch - firstPatch,
    watch: watchEnd - lastPatch,
    annotate: done.at - watchEnd,
    finish: exitAt - done.at,
  };
  const known = b.start + b.aws + b.kubeReads + b.patch + b.watch + b.annotate + b.finish;
  return {
    wallMs: exitAt - t0,
    successAt: done.at,
    exitAt,
    breakdown: { ...b, other: exitAt - t0 - known },
  };
}

async function main(): Promise<void> {
  const app = uniqueName("rollbench");
  const bench = await benchProject("rollout", app, specSource(app));
  const { sbx, root } = bench;
  const cluster = `kc-${app}-blue`;
  const cli = async (...args: string[]) => {
    const r = await spawnCli(args, { cwd: root, env: bench.env }).done;
    if (r.status !== 0)
      throw new Error(`kubecontrol ${args.join(" ")} exited ${r.status}\n${r.stderr.slice(-3000)}`);
    return r.stdout;
  };
  const stops: (() => void)[] = [];
  try {
    process.stderr.write(`creating ${app} (${COMPONENTS.length} Deployments × ${REPLICAS} replicas)…\n`);
    await cli("create", app, "--yes");

    // Every version's image in ECR before the rounds: one commit per rollout, each side its own.
    const versions: { commit: string; image: string }[] = [];
    for (let i = 0; i < 2 * (ROUNDS + 1); i++) {
      const commit = bench.commit();
      const image = (await cli("image", app, "--version", commit)).trim().split("\n")[0]!;
      versions.push({ commit, image });
    }
    process.stderr.write(`built ${versions.length} versions' images\n`);
    await loadStages(sbx.dir, cluster, [readyAfterDelayStage(app, root)]);
    const kubectl = await kubectlFor(sbx, cluster, root);

    // The independent observer: the admin kubeconfig, its own watch, when each pod is first seen Ready.
    const observer = new KubeClient(
      kubeConfigFromFile(adminKubeconfigPath(path.join(sbx.dir, "k8s"), cluster)),
    );
    const readyAt = new Map<string, { image: string; at: number }>();
    const pods = new ListWatch(observer, {
      path: `/api/v1/namespaces/${app}/pods`,
      onChange: (_type, pod: KubeResource) => {
        const name = pod.metadata?.name ?? "";
        if (!readyAt.has(name) && isReady(pod)) {
          const img = (pod.spec as { containers: { image: string }[] }).containers[0]!.image;
          readyAt.set(name, { image: img, at: Date.now() });
        }
      },
    });
    stops.push(
      () => pods.stop(),
      () => observer.close(),
    );
    await pods.synced;
    const lastReady = (img: string) => {
      const at = [...readyAt.values()].filter((r) => r.image === img).map((r) => r.at);
      if (at.length < COMPONENTS.length * REPLICAS)
        throw new Error(`only ${at.length} pods of ${img} seen Ready`);
      return Math.max(...at);
    };

    const kc: number[] = [];
    const kctl: number[] = [];
    const latency: number[] = [];
    const exitLatency: number[] = [];
    const kctlLatency: number[] = [];
    const breakdowns: Breakdown[] = [];
    let next = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const warmUp = round === 0;
      const order = round % 2 === 1 ? ["kubecontrol", "kubectl"] : ["kubectl", "kubecontrol"];
      for (const who of order) {
        const v = versions[next++]!;
        if (who === "kubecontrol") {
          const r = await kubecontrolRollout(bench, v.commit, String(round));
          if (warmUp) continue;
          kc.push(r.wallMs);
          latency.push(r.successAt - lastReady(v.image));
          exitLatency.push(r.exitAt - lastReady(v.image));
          breakdowns.push(r.breakdown);
        } else {
          const t0 = Date.now();
          await Promise.all(
            COMPONENTS.map(async (name) => {
              await kubectl.run("-n", app, "set", "image", `deployment/${name}`, `app=${v.image}`);
              await kubectl.run("-n", app, "rollout", "status", `deployment/${name}`, "--timeout=120s");
            }),
          );
          const end = Date.now();
          if (warmUp) continue;
          kctl.push(end - t0);
          kctlLatency.push(end - lastReady(v.image));
        }
      }
      if (!warmUp)
        process.stderr.write(
          `round ${round}: kubecontrol ${fmt(kc.at(-1)!)} (detected +${fmt(latency.at(-1)!)}), kubectl ${fmt(kctl.at(-1)!)} (exited +${fmt(kctlLatency.at(-1)!)})\n`,
        );
    }

    const ratio = median(kc) / median(kctl);
    const part = (k: keyof Breakdown) => median(breakdowns.map((b) => b[k]));
    console.log(
      `rolling update of ${app}: ${COMPONENTS.length} Deployments × ${REPLICAS} replicas, pods ready 300 ms after scheduling, ${ROUNDS} rounds (after a warm-up)`,
    );
    console.log(`kubecontrol rollout (CLI process)        median ${fmt(median(kc))}`);
    console.log(
      `kubectl set image + rollout status       median ${fmt(median(kctl))}   (${await kubectl.version()}, 3 pairs in parallel)`,
    );
    console.log(`ratio kubecontrol / kubectl              ${ratio.toFixed(2)} (goal ≤ 1.05)`);
    console.log("where kubecontrol's time goes (medians):");
    console.log(`  start: node, modules, config, spec, SDK    ${fmt(part("start"))}`);
    console.log(`  AWS calls (${part("awsCalls")}, in flight)                 ${fmt(part("aws"))}`);
    console.log(`  Kubernetes reads before the patch           ${fmt(part("kubeReads"))}`);
    console.log(`  patch (3 PATCHes)                           ${fmt(part("patch"))}`);
    console.log(`  watch: last patch answered → all available  ${fmt(part("watch"))}`);
    console.log(`  version annotation (3 PATCHes)              ${fmt(part("annotate"))}`);
    console.log(`  finish: record, lease, exit                 ${fmt(part("finish"))}`);
    console.log(`  other: lease, journal, plan, token, gaps    ${fmt(part("other"))}`);
    console.log(
      `detection latency, last pod Ready → kubecontrol success event: median ${fmt(median(latency))}, max ${fmt(Math.max(...latency))}; → process exit: median ${fmt(median(exitLatency))}`,
    );
    console.log(`  (kubectl: last pod Ready → last rollout status exit: median ${fmt(median(kctlLatency))})`);
    if (process.env.BENCH_JSON) {
      console.log(
        JSON.stringify({
          kubecontrolMs: kc,
          kubectlMs: kctl,
          ratio,
          breakdowns,
          detectionLatencyMs: latency,
          exitLatencyMs: exitLatency,
          kubectlExitLatencyMs: kctlLatency,
        }),
      );
    }
  } finally {
    for (const stop of stops) stop();
    if (!process.env.KEEP) {
      await removeApp(sbx, bench.appsDir, app, "bench-cleanup");
      rmSync(root, { recursive: true, force: true });
    } else process.stderr.write(`kept ${app} and ${root}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
