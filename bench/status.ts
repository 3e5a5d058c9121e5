#!/usr/bin/env -S node --import jiti/register
// `kubecontrol status` as users run it (bin/kubecontrol, its own process) against the local
// sandbox:
//   1. over 8 deployed apps against over 1 of them, in the same run, alternating which goes
//      first, after one untimed warm-up each (goal: 8 apps take at most 2× one app: apps are read
//      at once, each app's colours and clusters at once);
//   2. `status --all --from <snapshot>` over 60 apps whose live state comes from a recorded
//      snapshot (the 8 apps' real `-o json`, copied under 60 names): the CLI's own cost (start,
//      60 specs loaded, judged and drawn) against `kubecontrol list` over the same 60 specs.
//
//   npm run bench:status        ROUNDS=5 by default; BENCH_JSON=1 adds a JSON line; KEEP=1 keeps the apps
// Uses the test sandbox (.sandbox/test, or $KUBECONTROL_TEST_SANDBOX), brought up when down; it
// allows ten control planes at once (test/helpers/sandbox.ts), so the 8 apps' clusters all run.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { removeApp } from "../test/helpers/e2e-project.js";
import { spawnCli } from "../test/helpers/e2e-runs.js";
import { gitIn } from "../test/helpers/git.js";
import { testAccessKeyId, uniqueName } from "../test/helpers/sandbox.js";
import { type BenchProject, benchProject } from "./sandbox-bench.js";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const APPS = 8;
const FLEET = 60;
const repoRoot = path.resolve(import.meta.dirname, "..");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** hello's spec under another name. */
function helloAs(name: string): string {
  return readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${name}"`)
    .replace('repository: "hello"', `repository: "${name}"`)
    .replace('record: "hello.example.com"', `record: "${name}.example.com"`)
    .replace('context: "apps/hello"', `context: "apps/${name}"`);
}

async function cli(b: BenchProject, args: string[], o: { appsDir?: string } = {}) {
  const r = await spawnCli(["--apps", o.appsDir ?? b.appsDir, ...args], {
    cwd: b.root,
    env: b.env,
    accessKeyId: testAccessKeyId(),
  }).done;
  return r;
}

async function timed(b: BenchProject, args: string[], o: { appsDir?: string; ok?: number[] } = {}) {
  const t0 = performance.now();
  const r = await cli(b, args, o);
  const ms = performance.now() - t0;
  if (!(o.ok ?? [0]).includes(r.status))
    throw new Error(`kubecontrol ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const names = Array.from({ length: APPS }, () => uniqueName("bst"));
  const b = await benchProject("status", names[0]!, helloAs(names[0]!));
  for (const name of names.slice(1)) {
    cpSync(path.join(b.appsDir, names[0]!), path.join(b.appsDir, name), { recursive: true });
    writeFileSync(path.join(b.appsDir, `${name}.ts`), helloAs(name));
  }
  gitIn(b.root, "add", "-A");
  gitIn(b.root, "commit", "-q", "-m", "eight apps");
  try {
    const t0 = performance.now();
    // Four creates at once: the sandbox builds four images and starts four control planes fine.
    for (let i = 0; i < APPS; i += 4) {
      const batch = await Promise.all(names.slice(i, i + 4).map((n) => cli(b, ["create", n, "--yes"])));
      for (const r of batch) if (r.status !== 0) throw new Error(`create failed:\n${r.stderr}`);
    }
    process.stderr.write(`created ${APPS} apps in ${((performance.now() - t0) / 1000).toFixed(0)}s\n`);

    const one = ["status", names[0]!];
    const eight = ["status", ...names];
    await timed(b, one);
    await timed(b, eight);
    const ms1: number[] = [];
    const ms8: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        ms1.push(await timed(b, one));
        ms8.push(await timed(b, eight));
      } else {
        ms8.push(await timed(b, eight));
        ms1.push(await timed(b, one));
      }
    }

    // A fleet of 60 from a recorded snapshot: the 8 apps' real readings under 60 names.
    const recorded = JSON.parse((await cli(b, ["status", ...names, "-o", "json"])).stdout) as {
      apps: { app: string }[];
    };
    const fleetDir = path.join(b.root, "fleet", "apps");
    mkdirSync(fleetDir, { recursive: true });
    const fleet = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i).padStart(2, "0")}`);
    for (const name of fleet) writeFileSync(path.join(fleetDir, `${name}.ts`), helloAs(name));
    const snapshot = path.join(b.root, "fleet.json");
    writeFileSync(
      snapshot,
      JSON.stringify({ apps: fleet.map((app, i) => ({ ...recorded.apps[i % recorded.apps.length], app })) }),
    );
    const from = ["status", "--all", "--from", snapshot];
    const list = ["list"];
    await timed(b, from, { appsDir: fleetDir, ok: [0, 10] });
    await timed(b, list, { appsDir: fleetDir });
    const msFrom: number[] = [];
    const msList: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      msFrom.push(await timed(b, from, { appsDir: fleetDir, ok: [0, 10] }));
      msList.push(await timed(b, list, { appsDir: fleetDir }));
    }

    const [m1, m8, mFrom, mList] = [median(ms1), median(ms8), median(msFrom), median(msList)];
    const ratio = m8 / m1;
    process.stdout.write(
      [
        `status, ${ROUNDS} rounds, medians:`,
        `  1 app        ${m1.toFixed(0)} ms`,
        `  ${APPS} apps       ${m8.toFixed(0)} ms   ratio ${ratio.toFixed(2)} (goal ≤ 2.00)${ratio <= 2 ? "" : "  MISSED"}`,
        `  ${FLEET} apps from a snapshot   ${mFrom.toFixed(0)} ms   (list over the same specs ${mList.toFixed(0)} ms)`,
        "",
      ].join("\n"),
    );
    if (process.env.BENCH_JSON)
      process.stdout.write(
        `${JSON.stringify({ bench: "status", rounds: ROUNDS, oneMs: m1, eightMs: m8, ratio, fleetFromSnapshotMs: mFrom, listMs: mList })}\n`,
      );
  } finally {
    if (!process.env.KEEP) {
      await Promise.all(names.map((n) => removeApp(b.sbx, b.appsDir, n, "bench-cleanup")));
      rmSync(b.root, { recursive: true, force: true });
    }
  }
}

await main();
