import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { KubecontrolError } from "../errors.js";
import { adminCall } from "./admin-client.js";
import {
  type ComponentContext,
  type ComponentHealth,
  SANDBOX_COMPONENTS,
  type SandboxComponent,
} from "./components.js";
import { withLock } from "./lock.js";
import { packageRoot, resolveSandboxDir, type SandboxPaths, sandboxCacheDir, sandboxPaths } from "./paths.js";
import { ownsPid, stopProcess } from "./processes.js";
import type { SeedRequirements } from "./seed.js";
import { type ComponentRecord, readState, type SandboxState, writeState } from "./state.js";

/** Progress of `up` and `down`, for the CLI to render. */
export type SandboxEvent =
  | { type: "starting"; component: string }
  | { type: "started"; component: string; address?: string; ms: number }
  | { type: "stopped"; component: string; outcome: string };

/** One component as `status` reports it. */
export interface ComponentStatus {
  name: string;
  description: string;
  state: "up" | "unhealthy" | "down" | "not-started";
  pid?: number;
  address?: string;
  detail?: string;
}

export interface UpOptions {
  dir?: string;
  /** Start only these components (e.g. ["moto", "proxy"]: AWS alone); default all of them. */
  only?: readonly string[];
  region: string;
  seed: SeedRequirements;
  onEvent?: (event: SandboxEvent) => void;
}

export interface UpResult {
  dir: string;
  alreadyUp: boolean;
  components: ComponentStatus[];
  ms: number;
}

function context(
  paths: SandboxPaths,
  region: string,
  started: Record<string, ComponentRecord>,
): ComponentContext {
  return { paths, cacheDir: sandboxCacheDir(), root: packageRoot(), region, started };
}

async function checkComponent(
  component: SandboxComponent,
  record: ComponentRecord | undefined,
  ctx: ComponentContext,
): Promise<ComponentStatus> {
  const base = { name: component.name, description: component.description };
  if (!record) return { ...base, state: "not-started" };
  const known = { ...base, pid: record.pid, address: record.address };
  if (!ownsPid(record.pid, record.marker))
    return { ...known, state: "down", detail: `pid ${record.pid} is not running; log: ${record.logFile}` };
  const health: ComponentHealth = await component.health(record, ctx);
  return health.ok ? { ...known, state: "up" } : { ...known, state: "unhealthy", detail: health.detail };
}

async function waitHealthy(
  component: SandboxComponent,
  record: ComponentRecord,
  ctx: ComponentContext,
): Promise<void> {
  const timeout = component.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeout;
  let last: ComponentStatus | undefined;
  while (Date.now() < deadline) {
    last = await checkComponent(component, record, ctx);
    if (last.state === "up") return;
    if (last.state === "down") break;
    await delay(100);
  }
  throw new KubecontrolError(
    "SANDBOX",
    `sandbox ${component.name} did not become healthy within ${timeout / 1000}s: ${last?.detail ?? "no answer"}`,
    {
      hint: `see its log: ${record.logFile}`,
    },
  );
}

async function stopRecorded(
  state: SandboxState,
  paths: SandboxPaths,
  onEvent?: (e: SandboxEvent) => void,
): Promise<Record<string, string>> {
  const ctx = context(paths, state.region, state.components);
  const order = [
    ...Object.keys(state.components).filter((n) => !SANDBOX_COMPONENTS.some((c) => c.name === n)),
    ...SANDBOX_COMPONENTS.map((c) => c.name).reverse(),
  ];
  const outcomes: Record<string, string> = {};
  for (const name of order) {
    const record = state.components[name];
    if (!record) continue;
    const outcome = await stopProcess(record);
    await SANDBOX_COMPONENTS.find((c) => c.name === name)?.afterStop?.(record, ctx);
    outcomes[name] = outcome;
    onEvent?.({ type: "stopped", component: name, outcome });
  }
  return outcomes;
}

/** The components a sandbox runs: all of them, or those named by `only` (in start order). */
export function selectComponents(only?: readonly string[]): readonly SandboxComponent[] {
  if (!only) return SANDBOX_COMPONENTS;
  const unknown = only.filter((n) => !SANDBOX_COMPONENTS.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw new KubecontrolError("USAGE", `unknown sandbox component ${unknown.join(", ")}`, {
      hint: `components: ${SANDBOX_COMPONENTS.map((c) => c.name).join(", ")}`,
    });
  }
  return SANDBOX_COMPONENTS.filter((c) => only.includes(c.name));
}

function sameSelection(a?: readonly string[], b?: readonly string[]): boolean {
  return (
    selectComponents(a)
      .map((c) => c.name)
      .join() ===
    selectComponents(b)
      .map((c) => c.name)
      .join()
  );
}

/** Reports every component: its address, pid and health. */
export async function sandboxStatus(
  dir?: string,
): Promise<{ dir: string; up: boolean; region?: string; components: ComponentStatus[] }> {
  const paths = sandboxPaths(resolveSandboxDir(dir));
  const state = readState(paths.stateFile);
  const ctx = context(paths, state?.region ?? "", state?.components ?? {});
  const components = await Promise.all(
    selectComponents(state?.only).map((c) => checkComponent(c, state?.components[c.name], ctx)),
  );
  return { dir: paths.dir, up: components.every((c) => c.state === "up"), region: state?.region, components };
}

/** Starts every component in order and seeds; on a sandbox already up, changes nothing and says so. */
export async function sandboxUp(options: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const paths = sandboxPaths(resolveSandboxDir(options.dir));
  mkdirSync(paths.dir, { recursive: true });
  return withLock(paths.lockFile, async () => {
    const previous = readState(paths.stateFile);
    if (previous) {
      const status = await sandboxStatus(paths.dir);
      if (status.up && sameSelection(previous.only, options.only))
        return { dir: paths.dir, alreadyUp: true, components: status.components, ms: Date.now() - t0 };
      // Partly up (a crash, a reboot, components added since) or asked for other components:
      // stop what is left of it and start afresh.
      await stopRecorded(previous, paths, options.onEvent);
      rmSync(paths.stateFile, { force: true });
    }
    writeFileSync(paths.seedFile, `${JSON.stringify(options.seed, null, 2)}\n`);
    const state: SandboxState = {
      version: 1,
      dir: paths.dir,
      region: options.region,
      startedAt: new Date().toISOString(),
      ...(options.only ? { only: [...options.only] } : {}),
      components: {},
    };
    const ctx = context(paths, options.region, state.components);
    try {
      for (const component of selectComponents(options.only)) {
        const t = Date.now();
        options.onEvent?.({ type: "starting", component: component.name });
        const record = await component.start(ctx);
        state.components[component.name] = record;
        writeState(paths.stateFile, state); // recorded at once, so `down` can stop it even if `up` dies now
        await waitHealthy(component, record, ctx);
        options.onEvent?.({
          type: "started",
          component: component.name,
          address: record.address,
          ms: Date.now() - t,
        });
      }
    } catch (err) {
      await stopRecorded(state, paths);
      rmSync(paths.stateFile, { force: true });
      throw err;
    }
    const status = await sandboxStatus(paths.dir);
    return { dir: paths.dir, alreadyUp: false, components: status.components, ms: Date.now() - t0 };
  });
}

/** Stops exactly the processes `up` recorded (checking each pid is still ours) and forgets them. */
export async function sandboxDown(
  dir?: string,
  onEvent?: (e: SandboxEvent) => void,
): Promise<{ dir: string; wasUp: boolean; stopped: Record<string, string> }> {
  const paths = sandboxPaths(resolveSandboxDir(dir));
  return withLock(paths.lockFile, async () => {
    const state = readState(paths.stateFile);
    if (!state) return { dir: paths.dir, wasUp: false, stopped: {} };
    const stopped = await stopRecorded(state, paths, onEvent);
    rmSync(paths.stateFile, { force: true });
    return { dir: paths.dir, wasUp: true, stopped };
  });
}

/** The state of a sandbox that is up, or a SANDBOX error saying how to start it. */
export function requireUp(dir?: string): SandboxState {
  const paths = sandboxPaths(resolveSandboxDir(dir));
  const state = readState(paths.stateFile);
  if (!state?.components.moto || !state.components.proxy) {
    throw new KubecontrolError("SANDBOX", `no sandbox is up in ${paths.dir}`, {
      hint: "start it with `kubecontrol sandbox up` (or pass the --dir it was started with)",
    });
  }
  return state;
}

/** Returns moto to the seeded state (re-seeding from `seed`), and clears the proxy's counts and faults. */
export async function sandboxReset(
  dir: string | undefined,
  seed: SeedRequirements,
): Promise<{ dir: string; seeded: unknown }> {
  const state = requireUp(dir);
  const seeded = await adminCall(`${state.components.moto!.address}/_sandbox/reset`, {
    body: { seed },
    timeoutMs: 120_000,
  });
  await adminCall(`${state.components.proxy!.address}/_proxy/calls/reset`, { method: "POST" });
  await adminCall(`${state.components.proxy!.address}/_proxy/faults`, { method: "DELETE" });
  return { dir: state.dir, seeded };
}
