import { setTimeout as delay } from "node:timers/promises";
import { KubecontrolError } from "../errors.js";
import { codeVersion } from "./code-version.js";
import {
  type ComponentContext,
  type ComponentHealth,
  SANDBOX_COMPONENTS,
  type SandboxComponent,
} from "./components.js";
import { packageRoot, resolveSandboxDir, type SandboxPaths, sandboxCacheDir, sandboxPaths } from "./paths.js";
import { ownsPid } from "./processes.js";
import { type ComponentRecord, readState } from "./state.js";

/** One component as `status` reports it. */
export interface ComponentStatus {
  name: string;
  description: string;
  state: "up" | "unhealthy" | "down" | "not-started" | "stale";
  pid?: number;
  address?: string;
  detail?: string;
  /** Unhealthy for good: waiting will not help. */
  fatal?: boolean;
}

/** What components see of the sandbox they run in. */
export function componentContext(
  paths: SandboxPaths,
  region: string,
  started: Record<string, ComponentRecord>,
  note: (message: string) => void = () => {},
): ComponentContext {
  return { paths, cacheDir: sandboxCacheDir(), root: packageRoot(), region, started, note };
}

/** A component's state: not started, down (its pid is gone), unhealthy, or up. */
export async function checkComponent(
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
  if (health.ok) return { ...known, state: "up" };
  return { ...known, state: "unhealthy", detail: health.detail, ...(health.fatal ? { fatal: true } : {}) };
}

/** Polls a component's health until it is up; a SANDBOX error naming its log otherwise. */
export async function waitHealthy(
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
    if (last.state === "down" || last.fatal) break;
    await delay(100);
  }
  const why =
    last?.state === "down" || last?.fatal
      ? `sandbox ${component.name} failed to start: ${last.detail ?? "it exited"}`
      : `sandbox ${component.name} did not become healthy within ${timeout / 1000}s: ${last?.detail ?? "no answer"}`;
  throw new KubecontrolError("SANDBOX", why, { hint: `see its log: ${record.logFile}` });
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

/** True when two --only selections name the same components. */
export function sameSelection(a?: readonly string[], b?: readonly string[]): boolean {
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
  const ctx = componentContext(paths, state?.region ?? "", state?.components ?? {});
  const components = await Promise.all(
    selectComponents(state?.only).map(async (c) => {
      const status = await checkComponent(c, state?.components[c.name], ctx);
      // Compared with the files it was started from (src/ or dist/, whoever asks now).
      const record = state?.components[c.name];
      if (status.state !== "up" || !c.sources) return status;
      if (record?.codeSources && codeVersion(record.codeSources) === record.codeVersion) return status;
      return {
        ...status,
        state: "stale" as const,
        detail: "its code changed since it started; `sandbox up` restarts it",
      };
    }),
  );
  return { dir: paths.dir, up: components.every((c) => c.state === "up"), region: state?.region, components };
}
