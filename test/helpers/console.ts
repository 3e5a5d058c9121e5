import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { hostname } from "node:os";
import path from "node:path";
import type { AppStatus } from "../../src/engine/observe/app-status.js";
import { openStore } from "../../src/history/open.js";
import type { Fence, HistoryStore, StepRecord } from "../../src/history/types.js";
import { repoRoot } from "./apps.js";

/** A commit subject that carries a script: the console must show it as text, never run it. */
export const SCRIPT_SUBJECT = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">Add the cart`;
/** A log line with an AWS key pair in it: the console must show neither. */
export const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";

/** What seedStore made, for the tests to find. */
export interface Seeded {
  store: HistoryStore;
  failedRun: string;
  rollbackRun: string;
  runningRun: string;
  /** The fence of the running run's lease (held by this process), to append steps with. */
  runningFence: Fence;
  /** How many runs the app "batch" has (for paging). */
  batchRuns: number;
}

/**
 * Seeds a SQLite store in `stateDir` as a fleet's history would have it: shop (create, update,
 * a rollback to the first version, a failed update whose log carries an AWS key), api (an update
 * running now, its lease held by this process), web (cancelled, interrupted; a lease left stale),
 * batch (120 rollouts, for paging). Each run's trigger and commit subject are recorded.
 */
export async function seedStore(stateDir: string, now = Date.now()): Promise<Seeded> {
  const store = await openStore({ historyStore: "sqlite", stateDir });
  const t0 = now - 3 * 3600_000;
  const lease = async (app: string, owner: string, o: { pid?: number; at?: number; ttlMs?: number } = {}) => {
    const { lease: l } = await store.acquireLease(app, {
      owner,
      host: hostname(),
      pid: o.pid ?? process.pid,
      ttlMs: o.ttlMs ?? 3600_000,
      ...(o.at !== undefined ? { now: o.at } : {}),
    });
    return { app, token: l.token };
  };
  const steps = async (
    fence: Fence,
    runId: string,
    start: number,
    list: [string, number, StepRecord["status"], string?][],
  ) => {
    let at = start;
    for (const [step, ms, status, error] of list) {
      await store.recordStep(
        {
          runId,
          step,
          status,
          startedAt: at,
          finishedAt: status === "running" ? null : at + ms,
          changed: status === "succeeded",
          output: status === "succeeded" ? JSON.stringify({ summary: `${step} done` }) : null,
          error: error ?? null,
        },
        fence,
      );
      at += Math.round(ms / 2);
    }
  };
  const run = async (
    fence: Fence,
    id: string,
    o: {
      command: string;
      version: string | null;
      at: number;
      who?: string;
      subject?: string;
      trigger?: "person" | "cron";
      colour?: string;
    },
  ) =>
    store.startRun(
      {
        id,
        app: fence.app,
        command: o.command,
        who: o.who ?? "alice@deploy-1",
        version: o.version,
        colour: o.colour ?? "blue",
        planHash: `plan-${o.version ?? "none"}`,
        startedAt: o.at,
        trigger: o.trigger ?? "person",
        subject: o.subject ?? null,
      },
      fence,
    );
  const v1 = "1111111111aaaaaaaaaa1111111111aaaaaaaaaa";
  const v2 = "2222222222bbbbbbbbbb2222222222bbbbbbbbbb";
  const v3 = "3333333333cccccccccc3333333333cccccccccc";

  const shop = await lease("shop", "alice@deploy-1");
  await run(shop, "run-shop-1", { command: "create", version: v1, at: t0, subject: "First release" });
  await steps(shop, "run-shop-1", t0, [
    ["ensure-cluster/blue", 90_000, "succeeded"],
    ["ensure-image", 40_000, "succeeded"],
    ["shift-dns/blue", 5_000, "succeeded"],
  ]);
  await store.finishRun("run-shop-1", "succeeded", null, shop, t0 + 140_000);
  await run(shop, "run-shop-2", {
    command: "update",
    version: v2,
    at: t0 + 600_000,
    subject: SCRIPT_SUBJECT,
    colour: "green",
    trigger: "cron",
    who: "cron@deploy-1",
  });
  await steps(shop, "run-shop-2", t0 + 600_000, [
    ["ensure-cluster/green", 80_000, "succeeded"],
    ["shift-dns/green", 5_000, "succeeded"],
  ]);
  await store.finishRun("run-shop-2", "succeeded", null, shop, t0 + 700_000);
  await run(shop, "run-shop-3", {
    command: "update",
    version: v1,
    at: t0 + 1_200_000,
    subject: "First release",
    who: "bob@deploy-1",
  });
  await steps(shop, "run-shop-3", t0 + 1_200_000, [
    ["ensure-cluster/blue", 60_000, "succeeded"],
    ["shift-dns/blue", 5_000, "succeeded"],
  ]);
  await store.finishRun("run-shop-3", "succeeded", null, shop, t0 + 1_270_000);
  const log = `STEP_FAILED: image build failed: RUN ./build.sh exited 1; log: export AWS_ACCESS_KEY_ID=${AWS_KEY_ID} AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`;
  await run(shop, "run-shop-4", {
    command: "update",
    version: v3,
    at: t0 + 1_800_000,
    subject: "Faster images",
    colour: "green",
  });
  await steps(shop, "run-shop-4", t0 + 1_800_000, [
    ["ensure-cluster/green", 70_000, "succeeded"],
    ["ensure-image", 30_000, "failed", log],
    ["shift-dns/green", 0, "skipped", "a step it depends on failed"],
  ]);
  await store.finishRun(
    "run-shop-4",
    "failed",
    `STEP_FAILED: 1 step(s) failed: ensure-image: image build failed (${AWS_KEY_ID})`,
    shop,
    t0 + 1_900_000,
  );
  await store.releaseLease(shop);

  const web = await lease("web", "dave@deploy-1");
  await run(web, "run-web-1", { command: "rollout", version: v2, at: t0 + 300_000, who: "dave@deploy-1" });
  await steps(web, "run-web-1", t0 + 300_000, [
    ["ensure-image", 20_000, "succeeded"],
    ["roll-out-images", 50_000, "cancelled"],
  ]);
  await store.finishRun("run-web-1", "cancelled", "CANCELLED: interrupted", web, t0 + 380_000);
  await store.releaseLease(web);
  // A run whose process died long ago: its lease expired, it stays "running" until broken or taken over.
  const stale = await lease("web", "erin@deploy-1", { at: t0 + 400_000, ttlMs: 60_000 });
  await run(stale, "run-web-2", { command: "update", version: v3, at: t0 + 400_000, who: "erin@deploy-1" });
  await steps(stale, "run-web-2", t0 + 400_000, [["ensure-cluster/green", 30_000, "running"]]);

  const batch = await lease("batch", "cron@deploy-1");
  for (let i = 0; i < 120; i++) {
    const id = `run-batch-${String(i).padStart(3, "0")}`;
    await run(batch, id, {
      command: "rollout",
      version: `${String(i).padStart(4, "0")}${"d".repeat(36)}`,
      at: t0 + i * 60_000,
      who: "cron@deploy-1",
      trigger: "cron",
    });
    await store.finishRun(
      id,
      i % 10 === 9 ? "failed" : "succeeded",
      i % 10 === 9 ? "VERIFY_FAILED: new pods failed" : null,
      batch,
      t0 + i * 60_000 + 30_000,
    );
  }
  await store.releaseLease(batch);

  const api = await lease("api", "carol@deploy-1");
  await run(api, "run-api-1", {
    command: "update",
    version: v2,
    at: now - 60_000,
    who: "carol@deploy-1",
    subject: "Rate limits",
  });
  await steps(api, "run-api-1", now - 60_000, [
    ["ensure-cluster/green", 30_000, "succeeded"],
    ["wait-for-nodes", 0, "running"],
  ]);
  return {
    store,
    failedRun: "run-shop-4",
    rollbackRun: "run-shop-3",
    runningRun: "run-api-1",
    runningFence: api,
    batchRuns: 120,
  };
}

/** An AppStatus for a snapshot, as `kubecontrol status -o json` prints one. */
export function appStatus(
  app: string,
  o: {
    health: AppStatus["health"];
    live?: "blue" | "green";
    version?: string;
    at: number;
    problems?: string[];
    lease?: string;
    lastRun?: AppStatus["lastRun"];
  },
): AppStatus {
  const colour = (c: "blue" | "green") => ({
    colour: c,
    cluster:
      o.live === c
        ? {
            name: `kc-${app}-${c}`,
            status: "ACTIVE",
            kubernetesVersion: "1.31",
            createdAt: o.at - 86_400_000,
          }
        : undefined,
    record: o.live ? { weight: o.live === c ? 100 : 0, ttl: 60 } : undefined,
    ...(o.live === c
      ? {
          view: {
            version: o.version,
            workloads: { ready: 3, desired: 3, notReady: [] },
            nodes: { ready: 2, total: 2 },
          },
        }
      : {}),
  });
  return {
    app,
    health: o.health,
    problems: o.problems ?? [],
    live: o.live
      ? { kind: "live", colour: o.live, weight: 100, shifting: false, idle: false, clusterMissing: false }
      : { kind: "none", why: "no colour stands", standing: [] },
    dnsName: `${app}.example.com`,
    colours: { blue: colour("blue"), green: colour("green") },
    lease: o.lease
      ? {
          owner: o.lease,
          host: "deploy-1",
          pid: 4242,
          acquiredAt: o.at - 60_000,
          expiresAt: o.at + 60_000,
          holderGone: false,
        }
      : undefined,
    lastRun: o.lastRun,
    readAt: o.at,
  } as AppStatus;
}

/** A console started as a real CLI process. */
export interface ConsoleProcess {
  url: string;
  login: string;
  token: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `kubecontrol console --port 0 -o json <args>` and waits for its login link. */
export function startConsoleCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = repoRoot,
): Promise<ConsoleProcess> {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, "bin/kubecontrol"), "console", "--port", "0", "-o", "json", ...args],
    {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start in 20s: ${err}`)), 20_000);
    child.on("exit", (code) => reject(new Error(`console exited ${code}: ${err}`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0];
      if (!out.includes("\n") || !line) return;
      clearTimeout(timer);
      const { url, login } = JSON.parse(line) as { url: string; login: string };
      resolve({
        url,
        login,
        token: new URL(login).searchParams.get("token")!,
        port: Number(new URL(url).port),
        child,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

/** A request with node:http, which sends the Host header it is given (fetch does not). */
export function rawRequest(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? "GET", headers: o.headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}
