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
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { createAws } from "../src/aws/create-aws.js";
import { runSteps } from "../src/engine/runner.js";
import { teardownSteps } from "../src/engine/steps/aws/teardown.js";
import type { KubecontrolEvent } from "../src/io/events.js";
import { KubeClient, type KubeResource } from "../src/kube/client.js";
import { kubeConfigFromFile } from "../src/kube/cluster-access.js";
import { describeClusterEndpoint } from "../src/kube/describe-cluster.js";
import { presignEksToken } from "../src/kube/eks-token.js";
import { ListWatch } from "../src/kube/watch/list-watch.js";
import { isReady } from "../src/kube/watch/verdict.js";
import { planApp } from "../src/plan/plan.js";
import { ensureBinaries } from "../src/sandbox/k8s/assets.js";
import { adminKubeconfigPath } from "../src/sandbox/k8s/control-plane.js";
import { loadStages } from "../src/sandbox/k8s/stages.js";
import { loadApp } from "../src/spec/loader.js";
import { ensureTestSandbox, type TestSandbox, testAccessKeyId, uniqueName } from "../test/helpers/sandbox.js";
import buildDist from "../test/setup/build.global.js";
import { COMPONENTS, REPLICAS, readyAfterDelayStage, writeRolloutProject } from "./rollout-app.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const repoRoot = path.resolve(import.meta.dirname, "..");
const bin = path.join(repoRoot, "bin/kubecontrol");
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
async function kubecontrolRollout(
  root: string,
  env: NodeJS.ProcessEnv,
  app: string,
  commit: string,
  round: string,
): Promise<RoundResult> {
  const timings = path.join(root, `timings-${round}.json`);
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    ["--import", probe, bin, "--json", "rollout", app, "--version", commit, "--yes"],
    { cwd: root, env: { ...env, KC_BENCH_TIMINGS_FILE: timings }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const exitAt = Date.now();
  const events = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as KubecontrolEvent & { type: string; step?: string; at?: number });
  const done = events.find((e) => e.type === "step.succeeded" && e.step === "rollOutImages") as
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

/** kubectl with a kubeconfig holding a presigned EKS token (static: no exec plugin per call). */
async function kubectlFor(sbx: TestSandbox, cluster: string, dir: string) {
  const credentials = {
    accessKeyId: sbx.env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: sbx.env.AWS_SECRET_ACCESS_KEY!,
  };
  const aws = { region: sbx.region, endpoint: sbx.endpoint, credentials };
  const endpoint = await describeClusterEndpoint(cluster, aws);
  const { token } = await presignEksToken({
    clusterName: cluster,
    region: sbx.region,
    credentials,
    endpoint: sbx.endpoint,
  });
  const kubeconfig = path.join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "bench",
          cluster: { server: endpoint.endpoint, "certificate-authority-data": endpoint.certificateAuthority },
        },
      ],
      users: [{ name: "bench", user: { token } }],
      contexts: [{ name: "bench", context: { cluster: "bench", user: "bench" } }],
      "current-context": "bench",
    }),
    { mode: 0o600 },
  );
  const binary = `${await ensureBinaries({ build: false })}/kubectl`;
  const { stdout: v } = await run(binary, ["version", "--client", "-o", "json"]);
  const version = (JSON.parse(v) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  return {
    version,
    exec: (...args: string[]) => run(binary, ["--kubeconfig", kubeconfig, ...args]),
  };
}

async function main(): Promise<void> {
  buildDist();
  const sbx = await ensureTestSandbox();
  const root = mkdtempSync(path.join(os.tmpdir(), "kc-bench-rollout-"));
  const app = uniqueName("rollbench");
  const cluster = `kc-${app}-blue`;
  const project = writeRolloutProject(root, app);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sbx.env,
    NO_COLOR: "1",
    KUBECONTROL_STATE_DIR: path.join(root, ".state"),
  };
  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [bin, ...args], { cwd: root, env, maxBuffer: 16 << 20 });
    return stdout;
  };
  const stops: (() => void)[] = [];
  try {
    process.stderr.write(`creating ${app} (${COMPONENTS.length} Deployments × ${REPLICAS} replicas)…\n`);
    await cli("create", app, "--yes");

    // Every version's image in ECR before the rounds: one commit per rollout, each side its own.
    const versions: { commit: string; image: string }[] = [];
    for (let i = 0; i < 2 * (ROUNDS + 1); i++) {
      const commit = project.commit();
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
          const r = await kubecontrolRollout(root, env, app, v.commit, String(round));
          if (warmUp) continue;
          kc.push(r.wallMs);
          latency.push(r.successAt - lastReady(v.image));
          exitLatency.push(r.exitAt - lastReady(v.image));
          breakdowns.push(r.breakdown);
        } else {
          const t0 = Date.now();
          await Promise.all(
            COMPONENTS.map(async (name) => {
              await kubectl.exec("-n", app, "set", "image", `deployment/${name}`, `app=${v.image}`);
              await kubectl.exec("-n", app, "rollout", "status", `deployment/${name}`, "--timeout=120s");
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
      `kubectl set image + rollout status       median ${fmt(median(kctl))}   (${kubectl.version}, 3 pairs in parallel)`,
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
      const { app: resolved } = await loadApp(path.join(root, "apps"), app);
      const aws = createAws({
        region: sbx.region,
        endpoint: sbx.endpoint,
        credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
      });
      await runSteps(
        teardownSteps(planApp({ app: resolved, colour: "blue", version: "cleanup" }), aws, "bench-cleanup", {
          destroy: true,
          pace: { pollMs: 50, maxPollMs: 500 },
        }),
      );
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
