import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { KubecontrolError } from "../errors.js";
import { adminCall } from "./admin-client.js";
import { codeVersion } from "./code-version.js";
import { SANDBOX_COMPONENTS } from "./components.js";
import { withLock } from "./lock.js";
import { resolveSandboxDir, type SandboxPaths, sandboxPaths } from "./paths.js";
import { stopProcess } from "./processes.js";
import type { SeedRequirements } from "./seed.js";
import { readState, type SandboxState, writeState } from "./state.js";
import {
  type ComponentStatus,
  componentContext,
  sameSelection,
  sandboxStatus,
  selectComponents,
  waitHealthy,
} from "./status.js";

export { type ComponentStatus, sandboxStatus, selectComponents };

/** Progress of `up` and `down`, for the CLI to render. */
export type SandboxEvent =
  | { type: "starting"; component: string }
  | { type: "started"; component: string; address?: string; ms: number }
  | { type: "stopped"; component: string; outcome: string }
  | { type: "note"; component: string; message: string };

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

async function stopRecorded(
  state: SandboxState,
  paths: SandboxPaths,
  onEvent?: (e: SandboxEvent) => void,
): Promise<Record<string, string>> {
  const ctx = componentContext(paths, state.region, state.components);
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

/** Starts every component in order and seeds; on a sandbox already up, changes nothing and says so. */
export async function sandboxUp(options: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const paths = sandboxPaths(resolveSandboxDir(options.dir));
  // A sandbox is one user's: its CA key, cluster credentials and unauthenticated admin
  // endpoints' ports are inside, so nobody else may enter (docs/sandbox.md).
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
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
    let current = "";
    const ctx = componentContext(paths, options.region, state.components, (message) =>
      options.onEvent?.({ type: "note", component: current, message }),
    );
    try {
      for (const component of selectComponents(options.only)) {
        const t = Date.now();
        current = component.name;
        options.onEvent?.({ type: "starting", component: component.name });
        const sources = component.sources?.(ctx);
        const code = sources ? { codeSources: sources, codeVersion: codeVersion(sources) } : {};
        const record = { ...(await component.start(ctx)), ...code };
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
