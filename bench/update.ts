#!/usr/bin/env -S node --import jiti/register
// The blue/green critical path: `kubecontrol update` (bin/kubecontrol, its own process, --json)
// of an app like hello to a new commit, whose image is not in ECR yet, on the sandbox with its
// EKS creation delay set to 20 s (a cluster stays CREATING that long, as EKS's take minutes).
// The new colour's independent branches are the cluster and its nodes (network, groups, IAM,
// cluster, access entries, Auto Scaling Group, then waitForNodes) and the image build (the ECR
// step, then ensureImage); everything else (preflight, the Kubernetes objects, verification, the
// DNS switch, the old colour's teardown) comes before or after them. From the run's events:
//   - each branch's time: from the graph's first step to the branch's last step's end;
//   - update's wall time (the process, start to exit) and its time to the DNS switch;
//   - the ratio of update's wall time to its longest branch (goal ≤ 1.15), and their sum, which is
//     what the update would take at least if the branches ran one after the other.
//
//   npm run bench:update          BENCH_JSON=1 adds a JSON line; KEEP=1 keeps the project;
//                                 EKS_CREATE_DELAY=<s> another delay (default 20)
// Uses the test sandbox (.sandbox/test, or $KUBECONTROL_TEST_SANDBOX), brought up when down, and
// puts its EKS delays back to 0 at the end.
import { readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { KubecontrolEvent } from "../src/io/events.js";
import { adminCall } from "../src/sandbox/admin-client.js";
import { removeApp } from "../test/helpers/e2e-project.js";
import { uniqueName } from "../test/helpers/sandbox.js";
import { type BenchProject, benchProject, type JsonRun, kubecontrolJson } from "./sandbox-bench.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const probe = pathToFileURL(path.join(import.meta.dirname, "rss-probe.mjs")).href;
const DELAY_S = Number(process.env.EKS_CREATE_DELAY ?? 20);
const GOAL = 1.15;

type Ev = KubecontrolEvent & { step?: string };
const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function cli(b: BenchProject, args: string[]): Promise<JsonRun> {
  const r = await kubecontrolJson(b, args, { probe });
  if (r.status !== 0)
    throw new Error(`kubecontrol ${args.join(" ")} exited ${r.status}\n${r.stderr.slice(-4000)}`);
  return r;
}

/** When `step` ended (step.succeeded), in the run's events. */
function endOf(events: Ev[], step: string | RegExp): number {
  const hits = events.filter(
    (e) =>
      e.type === "step.succeeded" && (typeof step === "string" ? e.step === step : step.test(e.step ?? "")),
  );
  if (hits.length === 0) throw new Error(`no step.succeeded for ${step}`);
  return Math.max(...hits.map((e) => e.at));
}

async function main(): Promise<void> {
  const name = uniqueName("bu");
  const spec = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${name}"`)
    .replace('repository: "hello"', `repository: "${name}"`)
    .replace('context: "apps/hello"', `context: "apps/${name}"`)
    .replace('record: "hello.example.com"', `record: "${name}.example.com"`);
  const bench = await benchProject("update", name, spec);
  const { sbx } = bench;
  const config = (body: Record<string, unknown>) => adminCall(`${sbx.motoUrl}/_sandbox/config`, { body });
  const load = os.loadavg()[0]!.toFixed(1);
  try {
    await config({ eksCreateDelaySeconds: DELAY_S, eksDeleteDelaySeconds: 0 });
    process.stderr.write(`create ${name} (blue) with EKS creation delay ${DELAY_S} s\n`);
    await cli(bench, ["create", name, "--yes"]);
    const commit = bench.commit();
    process.stderr.write(`update ${name} to ${commit.slice(0, 12)} (image to build)\n`);
    const run = await cli(bench, ["update", name, "--version", commit, "--yes"]);
    const events = run.docs.filter((d) => typeof d.at === "number" && typeof d.type === "string") as Ev[];
    const starts = events.filter((e) => e.type === "step.started").map((e) => e.at);
    const t0 = Math.min(...starts);
    const cluster = endOf(events, "waitForNodes") - t0;
    const image = endOf(events, "ensureImage") - t0;
    const switched = endOf(events, "switch-dns") - run.startedAt;
    const wall = run.finishedAt - run.startedAt;
    const longest = Math.max(cluster, image);
    const built = events.find((e) => e.type === "step.succeeded" && e.step === "ensureImage") as
      | Extract<KubecontrolEvent, { type: "step.succeeded" }>
      | undefined;
    const ratio = wall / longest;
    console.log(
      `kubecontrol update: blue/green of a hello-like app on the local sandbox, EKS creation delay ${DELAY_S} s; ${os.cpus().length} cores, load average ${load} at start, ${os.loadavg()[0]!.toFixed(1)} at end`,
    );
    console.log(`  branch cluster and nodes (first step → waitForNodes)   ${fmt(cluster)}`);
    console.log(`  branch image (first step → ensureImage: ${built?.summary ?? "?"})   ${fmt(image)}`);
    console.log(`  both branches one after the other would take at least    ${fmt(cluster + image)}`);
    console.log(`  update, process start → DNS switched (INSYNC)            ${fmt(switched)}`);
    console.log(`  update, process start → exit (old colour removed)        ${fmt(wall)}`);
    console.log(
      `  update wall / longest branch: ${ratio.toFixed(2)} (goal ≤ ${GOAL}: ${ratio <= GOAL ? "met" : "NOT met"}); to the switch: ${(switched / longest).toFixed(2)}`,
    );
    if (process.env.BENCH_JSON)
      console.log(
        JSON.stringify({
          eksCreateDelaySeconds: DELAY_S,
          clusterBranchMs: cluster,
          imageBranchMs: image,
          switchedMs: switched,
          wallMs: wall,
          ratio: Number(ratio.toFixed(3)),
          ratioToSwitch: Number((switched / longest).toFixed(3)),
        }),
      );
  } finally {
    await config({ eksCreateDelaySeconds: 0, eksDeleteDelaySeconds: 0 }).catch(() => {});
    if (!(await removeApp(sbx, bench.appsDir, name, "bench-cleanup")))
      process.stderr.write(`cleanup of ${name} failed\n`);
    if (process.env.KEEP) process.stderr.write(`project kept in ${bench.root}\n`);
    else rmSync(bench.root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
