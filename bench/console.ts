#!/usr/bin/env -S node --import jiti/register
// `kubecontrol console` as users run it (bin/kubecontrol, its own process):
//   1. start: from spawning the console to its login link on stdout (goal < 300 ms);
//   2. the fleet page over 60 apps whose live state comes from a recorded snapshot (what
//      `status --all -o json` prints), rendered on the server (goal < 200 ms);
//   3. the history page over 10,000 runs: the first page, a filtered page and a page deep in the
//      cursor (goal < 200 ms each);
//   4. the fleet read live from AWS (the sandbox's moto through its recording proxy) over 10 apps:
//      the proxy's call count for one page load, for ten browsers loading at once, and for ten
//      browsers reloading three times within the cache period: concurrent reads share one read.
//
//   npm run bench:console        RUNS=21 by default; BENCH_JSON=1 adds a JSON line; NO_AWS=1 skips 4
// Part 4 uses the test sandbox's AWS part (.sandbox/test-aws), brought up when down.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore } from "../src/history/open.js";
import { appStatus, type ConsoleProcess, startConsoleCli } from "../test/helpers/console.js";
import { callCounts, ensureTestSandbox, testAccessKeyId } from "../test/helpers/sandbox.js";

const RUNS = Number(process.env.RUNS ?? 21);
const repoRoot = path.resolve(import.meta.dirname, "..");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Wall time of a GET through the bearer token (loopback: the server's time plus a fraction of a millisecond). */
async function get(c: ConsoleProcess, route: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${c.url}${route}`, { headers: { Authorization: `Bearer ${c.token}` } });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${route}: ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

async function timedGets(c: ConsoleProcess, route: string): Promise<number> {
  for (let i = 0; i < 3; i++) await get(c, route);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await get(c, route));
  return median(times);
}

/** A store of `n` runs over 40 apps (one in ten failed, some rollbacks), written as runs write them. */
async function seedRuns(stateDir: string, n: number): Promise<void> {
  const store = await openStore({ historyStore: "sqlite", stateDir });
  const t0 = Date.now() - n * 60_000;
  const fences = new Map<string, { app: string; token: number }>();
  for (let i = 0; i < n; i++) {
    const app = `app-${String(i % 40).padStart(2, "0")}`;
    if (!fences.has(app)) {
      const { lease } = await store.acquireLease(app, {
        owner: "bench@host",
        host: "bench",
        pid: process.pid,
        ttlMs: 3600_000,
      });
      fences.set(app, { app, token: lease.token });
    }
    const fence = fences.get(app)!;
    const id = `run-${String(i).padStart(6, "0")}`;
    const version = String(i % 7).repeat(40);
    await store.startRun(
      {
        id,
        app,
        command: ["update", "rollout", "create"][i % 3]!,
        who: `user${i % 9}@host`,
        version,
        colour: i % 2 ? "blue" : "green",
        planHash: "p",
        startedAt: t0 + i * 60_000,
        trigger: i % 4 ? "person" : "cron",
        subject: `Change ${i}`,
      },
      fence,
    );
    await store.finishRun(
      id,
      i % 10 === 9 ? "failed" : "succeeded",
      i % 10 === 9 ? "STEP_FAILED: x" : null,
      fence,
      t0 + i * 60_000 + 30_000,
    );
  }
  await store.close();
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), "kc-bench-console-"));
  const stateDir = path.join(root, "state");
  mkdirSync(stateDir);
  const now = Date.now();
  const snapshot = path.join(root, "fleet.json");
  writeFileSync(
    snapshot,
    JSON.stringify({
      apps: Array.from({ length: 60 }, (_, i) =>
        appStatus(`app-${String(i).padStart(2, "0")}`, {
          health: i % 9 === 0 ? "degraded" : "healthy",
          live: i % 2 ? "blue" : "green",
          version: String(i % 7).repeat(40),
          at: now,
          problems: i % 9 === 0 ? ["2 of 3 workloads ready (deployment/web)"] : [],
          lastRun: {
            id: `run-${i}`,
            command: "update",
            result: "succeeded",
            version: "x",
            who: "alice@host",
            startedAt: now - i * 60_000,
            error: null,
          },
        }),
      ),
    }),
  );
  const env = { KUBECONTROL_STATE_DIR: stateDir };

  // 1. start to login link (an empty store; the snapshot so nothing else is read)
  const starts: number[] = [];
  for (let i = 0; i < Math.max(5, Math.floor(RUNS / 2)); i++) {
    const t0 = performance.now();
    const c = await startConsoleCli(["--snapshot", snapshot], env);
    starts.push(performance.now() - t0);
    await c.stop();
  }
  const startMs = median(starts.slice(1));
  // What any node process costs on this machine now, for scale.
  const nodeMs = median(
    Array.from({ length: 7 }, () => {
      const t0 = performance.now();
      spawnSync(process.execPath, ["-e", "0"]);
      return performance.now() - t0;
    }),
  );

  // 2 and 3. pages over a snapshot of 60 apps and 10,000 runs
  const seedT0 = performance.now();
  await seedRuns(stateDir, 10_000);
  const seedMs = performance.now() - seedT0;
  const c = await startConsoleCli(["--snapshot", snapshot], env);
  const fleetMs = await timedGets(c, "/");
  const attentionMs = await timedGets(c, "/?attention=1");
  const historyMs = await timedGets(c, "/history");
  const filteredMs = await timedGets(c, "/history?app=app-07&result=failed");
  let deep = "/history";
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${c.url}/api/v1/runs${deep.slice("/history".length)}`, {
      headers: { Authorization: `Bearer ${c.token}` },
    });
    const page = (await res.json()) as { next: string | null };
    if (!page.next) break;
    deep = `/history?after=${encodeURIComponent(page.next)}`;
  }
  const deepMs = await timedGets(c, deep);
  const runMs = await timedGets(c, "/runs/run-009999");
  await c.stop();

  console.log(
    `console start to login link      median ${fmt(startMs)} (goal < 300 ms; node -e 0 takes ${fmt(nodeMs)} here)`,
  );
  console.log(
    `fleet page, 60 apps (snapshot)   median ${fmt(fleetMs)} (goal < 200 ms); needs attention ${fmt(attentionMs)}`,
  );
  console.log(
    `history page, 10,000 runs        median ${fmt(historyMs)} (goal < 200 ms); filtered ${fmt(filteredMs)}; 100 pages deep ${fmt(deepMs)}`,
  );
  console.log(
    `run page                         median ${fmt(runMs)}   (10,000 runs written in ${(seedMs / 1000).toFixed(1)} s)`,
  );

  // 4. live reads: AWS calls of one page load against ten browsers at once, through the proxy's counts
  let aws: Record<string, number> | undefined;
  if (!process.env.NO_AWS) {
    const sbx = await ensureTestSandbox("awsSandbox");
    const appsDir = path.join(root, "apps");
    mkdirSync(appsDir);
    cpSync(path.join(repoRoot, "apps/hello"), path.join(appsDir, "hello"), { recursive: true });
    const hello = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8");
    for (let i = 0; i < 10; i++) {
      const name = `bcon-${i}`;
      writeFileSync(
        path.join(appsDir, `${name}.ts`),
        hello
          .replace('name: "hello"', `name: "${name}"`)
          .replace('repository: "hello"', `repository: "${name}"`)
          .replace('record: "hello.example.com"', `record: "${name}.example.com"`),
      );
    }
    const live = async (load: (c: ConsoleProcess) => Promise<unknown>) => {
      const key = testAccessKeyId();
      const con = await startConsoleCli(
        ["--apps", appsDir],
        { ...sbx.env, ...env, AWS_ACCESS_KEY_ID: key },
        root,
      );
      try {
        const t0 = performance.now();
        await load(con);
        const ms = performance.now() - t0;
        return { calls: (await callCounts(sbx, key)).total, ms };
      } finally {
        await con.stop();
      }
    };
    const one = await live((con) => get(con, "/"));
    const ten = await live((con) => Promise.all(Array.from({ length: 10 }, () => get(con, "/"))));
    const reloads = await live(async (con) => {
      for (let r = 0; r < 3; r++) await Promise.all(Array.from({ length: 10 }, () => get(con, "/")));
    });
    aws = { one: one.calls, ten: ten.calls, tenTimesThree: reloads.calls, oneMs: one.ms, tenMs: ten.ms };
    console.log(
      `live fleet, 10 apps: AWS calls   1 browser ${one.calls} (${fmt(one.ms)}); 10 browsers at once ${ten.calls} (${fmt(ten.ms)}); 10 browsers × 3 loads within the cache ${reloads.calls}`,
    );
  }
  if (process.env.BENCH_JSON)
    console.log(
      JSON.stringify({ startMs, nodeMs, fleetMs, attentionMs, historyMs, filteredMs, deepMs, runMs, aws }),
    );
  rmSync(root, { recursive: true, force: true });
}

await main();
