#!/usr/bin/env -S node --import jiti/register
// The blue/green critical path: `kubecontrol update` (bin/kubecontrol, its own process, --json)
// of an app like hello to a new commit, whose image is not in ECR yet, on the sandbox with its
// EKS creation delay set to 20 s (a cluster stays CREATING that long, as EKS's take minutes).
// The new colour's independent branches are the cluster and its nodes (network, groups, IAM,
// cluster, access entries, Auto Scaling Group, then wait-for-nodes) and the image build (the ECR
// step, then ensure-image); everything else (preflight, the Kubernetes objects, verification, the
// DNS switch, the old colour's teardown) comes before or after them. From the run's events:
//   - each branch's time: from the graph's first step to the branch's last step's end;
//   - update's wall time (the process, start to exit) and its time to the DNS switch;
//   - the ratio of update's wall time to its longest branch (goal ≤ 1.15), and their sum, which is
//     what the update would take at least if the branches ran one after the other.
//
//   npm run bench:update          ROUNDS=3 updates (alternating colours), the median reported;
//                                 BENCH_JSON=1 adds a JSON line; KEEP=1 keeps the project;
//                                 EKS_CREATE_DELAY=<s> another delay (default 20); IMAGE_MB=<n>, default 150,
//                                 puts n MB of random data, new at each commit, in the image, so
//                                 its build is a branch of weight (hello's builds in a second)
// Uses the test sandbox (.sandbox/test, or $KUBECONTROL_TEST_SANDBOX), brought up when down, and
// puts its EKS delays back to 0 at the end.
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { KubecontrolEvent } from "../src/io/events.js";
import { adminCall } from "../src/sandbox/admin-client.js";
import { removeApp } from "../test/helpers/e2e-project.js";
import { gitIn } from "../test/helpers/git.js";
import { uniqueName } from "../test/helpers/sandbox.js";
import { type BenchProject, benchProject, type JsonRun, kubecontrolJson } from "./sandbox-bench.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const probe = pathToFileURL(path.join(import.meta.dirname, "rss-probe.mjs")).href;
const DELAY_S = Number(process.env.EKS_CREATE_DELAY ?? 20);
const IMAGE_MB = Number(process.env.IMAGE_MB ?? 150);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** One update, measured from its events and its process. */
interface Round {
  cluster: number;
  image: number;
  beforeGraph: number;
  /** Of which preflight and the ownership check (from update's announcement to the first step). */
  preflight: number;
  switched: number;
  wall: number;
  ratio: number;
  /** The steps after both branches, and how long each took. */
  after: Record<string, number>;
}

/** The steps between the branches and the switch, in order. */
const AFTER = ["ensure-kube-objects", "verify-workloads", "verify-targets", "verify-checks", "switch-dns"];

function measure(run: JsonRun): Round {
  const events = run.docs.filter((d) => typeof d.at === "number" && typeof d.type === "string") as Ev[];
  const t0 = Math.min(...events.filter((e) => e.type === "step.started").map((e) => e.at));
  const cluster = endOf(events, "wait-for-nodes") - t0;
  const image = endOf(events, "ensure-image") - t0;
  const wall = run.finishedAt - run.startedAt;
  return {
    cluster,
    image,
    beforeGraph: t0 - run.startedAt,
    preflight: t0 - (events.find((e) => e.type === "log" && / is live /.test(e.message))?.at ?? t0),
    switched: endOf(events, "switch-dns") - run.startedAt,
    wall,
    ratio: Number((wall / Math.max(cluster, image)).toFixed(3)),
    after: Object.fromEntries(
      AFTER.map((step) => {
        const done = events.find((e) => e.type === "step.succeeded" && e.step === step) as
          | Extract<KubecontrolEvent, { type: "step.succeeded" }>
          | undefined;
        return [step, done?.durationMs ?? 0];
      }),
    ),
  };
}

const describe = (x: Round) =>
  `cluster+nodes ${fmt(x.cluster)}, image ${fmt(x.image)}, before the graph ${fmt(x.beforeGraph)} (preflight and ownership ${fmt(x.preflight)}), DNS switched at ${fmt(x.switched)}, wall ${fmt(x.wall)}: ${x.ratio.toFixed(2)}; after the branches: ${Object.entries(
    x.after,
  )
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(", ")}`;
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
    // The image carries IMAGE_MB of incompressible data, new at each commit, so that its build
    // and push are a branch worth running beside the cluster (hello's own builds in a second).
    const weight = path.join(bench.appsDir, name, "weight.bin");
    const reweigh = () => writeFileSync(weight, randomBytes(IMAGE_MB * 1024 * 1024));
    if (IMAGE_MB > 0) {
      reweigh();
      appendFileSync(path.join(bench.appsDir, name, "Dockerfile"), "COPY weight.bin /srv/weight.bin\n");
      gitIn(bench.root, "add", "-A");
      gitIn(bench.root, "commit", "-q", "-m", `${IMAGE_MB} MB in the image`);
    }
    await config({ eksCreateDelaySeconds: DELAY_S, eksDeleteDelaySeconds: 0 });
    process.stderr.write(`create ${name} (blue) with EKS creation delay ${DELAY_S} s\n`);
    await cli(bench, ["create", name, "--yes"]);
    const rounds: Round[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      if (IMAGE_MB > 0) reweigh();
      const commit = bench.commit();
      process.stderr.write(`round ${r}: update ${name} to ${commit.slice(0, 12)} (image to build)\n`);
      const round = measure(await cli(bench, ["update", name, "--version", commit, "--yes"]));
      process.stderr.write(`  ${describe(round)}\n`);
      rounds.push(round);
    }
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
    console.log(
      `kubecontrol update: blue/green of a hello-like app on the local sandbox, EKS creation delay ${DELAY_S} s${IMAGE_MB ? `, ${IMAGE_MB} MB of new random data in each image` : ""}; ${os.cpus().length} cores, load average ${load} at start, ${os.loadavg()[0]!.toFixed(1)} at end`,
    );
    console.log("round  cluster+nodes  image    sum      before graph  to switch  wall     wall/longest");
    for (const [i, x] of rounds.entries())
      console.log(
        `${String(i + 1).padEnd(5)}  ${fmt(x.cluster).padStart(13)}  ${fmt(x.image).padStart(7)}  ${fmt(x.cluster + x.image).padStart(7)}  ${fmt(x.beforeGraph).padStart(12)}  ${fmt(x.switched).padStart(9)}  ${fmt(x.wall).padStart(7)}  ${x.ratio.toFixed(2)}`,
      );
    console.log(
      `median update wall / longest branch: ${median.ratio.toFixed(2)} (goal ≤ ${GOAL}: ${median.ratio <= GOAL ? "met" : "NOT met"}); to the DNS switch: ${(median.switched / Math.max(median.cluster, median.image)).toFixed(2)}`,
    );
    console.log(
      "  branches from the graph's first step to wait-for-nodes / ensure-image; before graph: process start to the first step (spec, version, live state, lease, preflight, ownership); wall: process start to exit, the old colour removed",
    );
    if (process.env.BENCH_JSON)
      console.log(
        JSON.stringify({
          eksCreateDelaySeconds: DELAY_S,
          imageMB: IMAGE_MB,
          rounds,
          medianRatio: median.ratio,
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
