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
//     `kubectl wait`/`rollout status` until available, against create's ensure-kube-objects step;
//     and an unchanged re-apply against the no-op run's check of the same step.
//
//   node --import jiti/register bench/create.ts     BENCH_JSON=1 adds a JSON line; KEEP=1 keeps the project
// Uses the test sandbox (.sandbox/test, or $KUBECONTROL_TEST_SANDBOX), brought up when down.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { KubecontrolEvent } from "../src/io/events.js";
import type { KubeObject } from "../src/plan/kubernetes.js";
import { planApp } from "../src/plan/plan.js";
import { loadApp } from "../src/spec/loader.js";
import { removeApp } from "../test/helpers/e2e-project.js";
import { callCounts, testAccessKeyId } from "../test/helpers/sandbox.js";
import { COMPONENTS, POOLS, specSource } from "./create-app.js";
import { type BenchProject, benchProject, kubecontrolJson, kubectlFor } from "./sandbox-bench.js";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
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
async function kubecontrol(b: BenchProject, label: string, args: string[]): Promise<CliRun> {
  const key = testAccessKeyId();
  const rssFile = path.join(b.root, `rss-${label}.json`);
  const { status, startedAt, finishedAt, stderr, docs } = await kubecontrolJson(b, args, {
    probe,
    accessKeyId: key,
    env: { KC_BENCH_RSS_FILE: rssFile },
  });
  if (status !== 0) {
    const failed = docs.filter((d) => d.type === "step.failed" || d.type === "error");
    throw new Error(
      `kubecontrol ${args.join(" ")} exited ${status}\n${JSON.stringify(failed, null, 1).slice(0, 4000)}\n${stderr.slice(-4000)}`,
    );
  }
  const counts = await callCounts(b.sbx, key);
  const mutatingOps = Object.fromEntries(
    Object.entries(counts.calls).filter(([op]) => !READ_ONLY.test(op.split(":")[1] ?? "")),
  );
  const summary = docs.find((d) => d.type === "summary") as CliRun["summary"];
  return {
    label,
    status,
    wallMs: finishedAt - startedAt,
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
  const name = `bc-${Math.random().toString(16).slice(2, 8)}`;
  const bench = await benchProject("create", name, specSource(name));
  const { sbx, root } = bench;
  const startLoad = os.loadavg()[0]!.toFixed(1);
  const { app } = await loadApp(bench.appsDir, name);
  const cleanupPlan = planApp({ app, colour: "blue", version: "cleanup" });
  const runs: CliRun[] = [];
  let torn = false;
  try {
    process.stderr.write(`create ${name} (${COMPONENTS.length} components, 4 pools) in ${root}\n`);
    const cold = await kubecontrol(bench, "create", ["create", name, "--yes"]);
    runs.push(cold);
    process.stderr.write(`  cold create ${fmtS(cold.wallMs)}, ${cold.calls.total} AWS calls\n`);
    const again = await kubecontrol(bench, "no-op", ["create", name, "--yes"]);
    runs.push(again);
    process.stderr.write(`  no-op re-run ${fmtS(again.wallMs)}, ${again.calls.total} AWS calls\n`);
    if (again.summary?.result !== "no-op" || again.calls.mutating > 0)
      process.stderr.write(
        `  warning: the re-run was not a no-op: ${again.summary?.result}, ${JSON.stringify(again.calls.mutatingOps)}\n`,
      );

    // kubectl: the objects create applied (its image, read back by digest) in a namespace of their own.
    const { run: kubectl } = await kubectlFor(sbx, cleanupPlan.cluster, root);
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

    const down = await kubecontrol(bench, "teardown", [
      "teardown",
      name,
      "--colour",
      "blue",
      "--force",
      "--yes",
    ]);
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
    const kcCold = stepMs(cold, "ensure-kube-objects");
    const kcNoop = stepMs(again, "ensure-kube-objects");
    console.log(
      `Kubernetes objects, apply until available: kubecontrol ensure-kube-objects ${fmtMs(kcCold)}, kubectl apply --server-side + wait ${fmtMs(kubectlCold)}, ratio ${(kcCold / kubectlCold).toFixed(2)}`,
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
    if (!(await removeApp(sbx, bench.appsDir, name, "bench-cleanup")))
      process.stderr.write(`cleanup of ${name} failed${torn ? "" : " (teardown never ran)"}\n`);
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
