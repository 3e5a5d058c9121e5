#!/usr/bin/env -S node --import jiti/register
// `kubecontrol create` of a generated app (20 components on 4 hardware pools, one image; see
// bench/create-app.ts) against the local sandbox, as a user runs it: bin/kubecontrol as its own
// process. Reports
//   - wall time of the cold create, of the no-op re-run and of the teardown;
//   - AWS calls of each run (total and mutating), from the sandbox proxy's count for the access
//     key that run signed with;
//   - the CLI's peak RSS (goal ≤ 200 MB) beside its RSS once the AWS SDK clients and
//     @kubernetes/client-node are loaded (bench/rss-probe.mjs, preloaded with --import);
//   - the Kubernetes part against kubectl: the same objects (the create's, image by digest) in a
//     namespace of their own on the same cluster, `kubectl apply --server-side` then
//     `kubectl wait`/`rollout status` until available, against create's ensureKubeObjects step;
//     and an unchanged re-apply against the no-op run's check of the same step.
//
//   node --import jiti/register bench/create.ts     BENCH_JSON=1 adds a JSON line; KEEP=1 keeps the project
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
import { describeClusterEndpoint } from "../src/kube/describe-cluster.js";
import { presignEksToken } from "../src/kube/eks-token.js";
import type { KubeObject } from "../src/plan/kubernetes.js";
import { planApp } from "../src/plan/plan.js";
import { ensureBinaries } from "../src/sandbox/k8s/assets.js";
import { loadApp } from "../src/spec/loader.js";
import { awsCli } from "../test/aws/stack-fixture.js";
import { callCounts, ensureTestSandbox, type TestSandbox, testAccessKeyId } from "../test/helpers/sandbox.js";
import buildDist from "../test/setup/build.global.js";
import { COMPONENTS, POOLS, writeBenchProject } from "./create-app.js";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const bin = path.join(repoRoot, "bin/kubecontrol");
const probe = pathToFileURL(path.join(import.meta.dirname, "rss-probe.mjs")).href;
const READ_ONLY = /^(Describe|List|Get|BatchGet)/;
const RSS_GOAL_MB = 200;

interface RssReport {
  startRssMB: number;
  loaded: { module: string; atMs: number; rssMB: number; kube: boolean }[];
  kubeLoadedAtExit: boolean;
  peakSample: { atMs: number; rssMB: number; heapUsedMB: number; externalMB: number; arrayBuffersMB: number };
  maxRssMB: number;
  durationMs: number;
}

interface CliRun {
  label: string;
  status: number;
  wallMs: number;
  stderr: string;
  events: KubecontrolEvent[];
  summary?: { result: string; changed: string[]; durationMs: number };
  calls: { total: number; mutating: number; mutatingOps: Record<string, number> };
  rss: RssReport;
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmtMs = (ms: number) => `${ms.toFixed(0)} ms`;

/** Runs bin/kubecontrol with --json under the RSS probe, signing with an access key of its own. */
async function kubecontrol(
  sbx: TestSandbox,
  root: string,
  label: string,
  args: string[],
  baseEnv: NodeJS.ProcessEnv,
): Promise<CliRun> {
  const key = testAccessKeyId();
  const rssFile = path.join(root, `rss-${label}.json`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", probe, bin, "--json", ...args], {
    cwd: root,
    env: { ...baseEnv, AWS_ACCESS_KEY_ID: key, KC_BENCH_RSS_FILE: rssFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const wallMs = performance.now() - t0;
  const docs = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  if (status !== 0) {
    const failed = docs.filter((d) => d.type === "step.failed" || d.type === "error");
    throw new Error(
      `kubecontrol ${args.join(" ")} exited ${status}\n${JSON.stringify(failed, null, 1).slice(0, 4000)}\n${stderr.slice(-4000)}`,
    );
  }
  const counts = await callCounts(sbx, key);
  const mutatingOps = Object.fromEntries(
    Object.entries(counts.calls).filter(([op]) => !READ_ONLY.test(op.split(":")[1] ?? "")),
  );
  const summary = docs.find((d) => d.type === "summary") as CliRun["summary"];
  return {
    label,
    status,
    wallMs,
    stderr,
    events: docs.filter((d) => typeof d.type === "string" && "at" in d) as unknown as KubecontrolEvent[],
    ...(summary ? { summary } : {}),
    calls: {
      total: counts.total,
      mutating: Object.values(mutatingOps).reduce((a, b) => a + b, 0),
      mutatingOps,
    },
    rss: JSON.parse(readFileSync(rssFile, "utf8")) as RssReport,
  };
}

function stepMs(r: CliRun, step: string): number {
  const done = r.events.find(
    (e): e is Extract<KubecontrolEvent, { type: "step.succeeded" }> =>
      e.type === "step.succeeded" && e.step === step,
  );
  if (!done) throw new Error(`${r.label}: no step.succeeded event for ${step}`);
  return done.durationMs;
}

/** RSS once the run's last AWS SDK client package had loaded (and whether the Kubernetes client had by then). */
function afterClients(
  r: RssReport,
): { rssMB: number; atMs: number; modules: number; kube: boolean } | undefined {
  const last = r.loaded.at(-1);
  if (!last) return undefined;
  return { rssMB: last.rssMB, atMs: last.atMs, modules: r.loaded.length, kube: last.kube };
}

/** RSS of a bare node process that loads only the same client packages. */
async function modulesAlone(modules: string[]): Promise<number> {
  const code = `for (const m of ${JSON.stringify(modules)}) await import(m);
process.stdout.write(String(process.memoryUsage.rss()));`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], { cwd: repoRoot });
  return Number(stdout) / 1048576;
}

/** The kubectl side: a kubeconfig with a presigned EKS token, as in bench/rollout.ts. */
async function kubectlFor(sbx: TestSandbox, cluster: string, dir: string) {
  const credentials = { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" };
  const endpoint = await describeClusterEndpoint(cluster, {
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials,
  });
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
  return async (...args: string[]) =>
    (await run(binary, ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout;
}

/** The same objects in namespace `ns`; node ports left to the API server (the originals hold theirs). */
function inNamespace(objects: KubeObject[], ns: string): KubeObject[] {
  return objects.map((o) => {
    const copy = structuredClone(o) as KubeObject & {
      metadata: { name: string; namespace?: string };
      spec?: { ports?: { nodePort?: number }[] };
    };
    if (copy.kind === "Namespace") copy.metadata.name = ns;
    else copy.metadata.namespace = ns;
    if (copy.kind === "Service") for (const p of copy.spec?.ports ?? []) delete p.nodePort;
    return copy;
  });
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  buildDist(); // the CLI runs from dist/
  const sbx = await ensureTestSandbox();
  await awsCli(sbx, [
    "iam",
    "get-policy",
    "--policy-arn",
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
  ]).catch(() => {
    throw new Error(
      `the sandbox in ${sbx.dir} predates AWS managed IAM policies: stop it (kubecontrol sandbox down --dir ${sbx.dir}) and run again`,
    );
  });
  const startLoad = os.loadavg()[0]!.toFixed(1);
  const root = mkdtempSync(path.join(os.tmpdir(), "kc-bench-create-"));
  const name = `bc-${Math.random().toString(16).slice(2, 8)}`;
  const appsDir = writeBenchProject(root, name);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sbx.env,
    NO_COLOR: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    KUBECONTROL_STATE_DIR: path.join(root, ".state"),
  };
  const { app } = await loadApp(appsDir, name);
  const cleanupPlan = planApp({ app, colour: "blue", version: "cleanup" });
  const runs: CliRun[] = [];
  let torn = false;
  try {
    process.stderr.write(`create ${name} (${COMPONENTS.length} components, 4 pools) in ${root}\n`);
    const cold = await kubecontrol(sbx, root, "create", ["create", name, "--yes"], env);
    runs.push(cold);
    process.stderr.write(`  cold create ${fmtS(cold.wallMs)}, ${cold.calls.total} AWS calls\n`);
    const again = await kubecontrol(sbx, root, "no-op", ["create", name, "--yes"], env);
    runs.push(again);
    process.stderr.write(`  no-op re-run ${fmtS(again.wallMs)}, ${again.calls.total} AWS calls\n`);
    if (again.summary?.result !== "no-op" || again.calls.mutating > 0)
      process.stderr.write(
        `  warning: the re-run was not a no-op: ${again.summary?.result}, ${JSON.stringify(again.calls.mutatingOps)}\n`,
      );

    // kubectl: the objects create applied (its image, read back by digest) in a namespace of their own.
    const kubectl = await kubectlFor(sbx, cleanupPlan.cluster, root);
    const first = COMPONENTS[0]!;
    const image = await kubectl(
      "get",
      "deployment",
      first,
      "-n",
      name,
      "-o",
      `jsonpath={.spec.template.spec.containers[?(@.name=="${first}")].image}`,
    );
    const { stdout: head } = await run("git", ["-C", root, "rev-parse", "HEAD"]);
    const objects = planApp({ app, colour: "blue", version: head.trim(), image }).kubernetes;
    const copyNs = `${name}-kubectl`;
    const file = path.join(root, "objects.yaml");
    writeFileSync(
      file,
      inNamespace(objects, copyNs)
        .map((o) => stringify(o))
        .join("---\n"),
    );
    const workloads = (kind: string) =>
      objects.filter((o) => o.kind === kind).map((o) => (o.metadata as { name: string }).name);
    const t0 = performance.now();
    await kubectl("apply", "--server-side", "--field-manager=bench-kubectl", "-f", file);
    await Promise.all([
      kubectl("wait", "--for=condition=Available", "deployment", "--all", "-n", copyNs, "--timeout=600s"),
      ...workloads("DaemonSet").map((ds) =>
        kubectl("rollout", "status", `daemonset/${ds}`, "-n", copyNs, "--timeout=600s"),
      ),
    ]);
    const kubectlCold = performance.now() - t0;
    const t1 = performance.now();
    await kubectl("apply", "--server-side", "--field-manager=bench-kubectl", "-f", file);
    const kubectlNoop = performance.now() - t1;

    const down = await kubecontrol(
      sbx,
      root,
      "teardown",
      ["teardown", name, "--colour", "blue", "--force", "--yes"],
      env,
    );
    runs.push(down);
    torn = true;

    // Report.
    const rssGoal = Math.max(...runs.map((r) => r.rss.maxRssMB)) <= RSS_GOAL_MB;
    const clientModules = cold.rss.loaded.map((l) => l.module);
    if (cold.rss.kubeLoadedAtExit) clientModules.push("@kubernetes/client-node");
    const alone = await modulesAlone(clientModules);
    const load = os.loadavg()[0]!.toFixed(1);
    console.log(
      `kubecontrol create: ${COMPONENTS.length} components on ${Object.keys(POOLS).length} pools (${objects.length} Kubernetes objects, ${cleanupPlan.aws.length} AWS resources), local sandbox; ${os.cpus().length} cores, load average ${startLoad} at start, ${load} at end`,
    );
    console.log("run            wall      AWS calls (mutating)   peak RSS   RSS after clients loaded");
    for (const r of runs) {
      const at = afterClients(r.rss);
      console.log(
        `${r.label.padEnd(14)} ${fmtS(r.wallMs).padStart(7)}   ${String(r.calls.total).padStart(5)} (${String(r.calls.mutating).padStart(3)})${" ".repeat(12)}${`${r.rss.maxRssMB.toFixed(0)} MB`.padStart(7)}    ${at ? `${at.rssMB.toFixed(0)} MB at ${fmtS(at.atMs)} (${at.modules} SDK clients${at.kube ? " + Kubernetes" : ""})` : "-"}`,
      );
    }
    console.log(
      `peak RSS goal ≤ ${RSS_GOAL_MB} MB: ${rssGoal ? "met" : "NOT met"}. For scale: bare node ${cold.rss.startRssMB.toFixed(0)} MB; node importing only the client packages create loaded (${cold.rss.loaded.length} AWS SDK clients${cold.rss.kubeLoadedAtExit ? " + @kubernetes/client-node" : ""}) ${alone.toFixed(0)} MB`,
    );
    console.log(
      `  create's peak: heap used ${cold.rss.peakSample.heapUsedMB.toFixed(0)} MB, external ${cold.rss.peakSample.externalMB.toFixed(0)} MB (sampled at ${fmtS(cold.rss.peakSample.atMs)})`,
    );
    const kcCold = stepMs(cold, "ensureKubeObjects");
    const kcNoop = stepMs(again, "ensureKubeObjects");
    console.log(
      `Kubernetes objects, apply until available: kubecontrol ensureKubeObjects ${fmtMs(kcCold)}, kubectl apply --server-side + wait ${fmtMs(kubectlCold)}, ratio ${(kcCold / kubectlCold).toFixed(2)}`,
    );
    console.log(
      `Kubernetes objects unchanged:               kubecontrol check ${fmtMs(kcNoop)}, kubectl apply --server-side ${fmtMs(kubectlNoop)}, ratio ${(kcNoop / kubectlNoop).toFixed(2)}`,
    );
    if (process.env.BENCH_JSON) {
      console.log(
        JSON.stringify({
          runs: runs.map((r) => ({
            label: r.label,
            wallMs: Math.round(r.wallMs),
            result: r.summary?.result,
            awsCalls: r.calls.total,
            mutatingCalls: r.calls.mutating,
            peakRssMB: r.rss.maxRssMB,
            rssAfterClientsMB: afterClients(r.rss)?.rssMB,
          })),
          nodeRssMB: cold.rss.startRssMB,
          clientModulesAloneRssMB: Math.round(alone),
          kube: {
            kubecontrolMs: kcCold,
            kubectlMs: Math.round(kubectlCold),
            kubecontrolNoopMs: kcNoop,
            kubectlNoopMs: Math.round(kubectlNoop),
          },
        }),
      );
    }
  } finally {
    // Whatever the CLI left (all of it if a run failed), app-scoped resources included.
    const aws = createAws({
      region: sbx.region,
      endpoint: sbx.endpoint,
      credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
    });
    const report = await runSteps(
      teardownSteps(cleanupPlan, aws, "bench-cleanup", {
        destroy: true,
        pace: { pollMs: 50, maxPollMs: 500 },
      }),
    );
    if (!report.ok) process.stderr.write(`cleanup of ${name} failed${torn ? "" : " (teardown never ran)"}\n`);
    if (process.env.KEEP) process.stderr.write(`project kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
