import { clusterWatcherComponent } from "./component-cluster-watcher.js";
import { loadBalancersComponent } from "./component-load-balancers.js";
import { motoComponent } from "./component-moto.js";
import { proxyComponent } from "./component-proxy.js";
import { registryComponent, registryProxyComponent } from "./component-registry.js";
import type { SandboxPaths } from "./paths.js";
import type { ComponentRecord } from "./state.js";

/**
 * The sandbox's components, in start order (`down` stops them in reverse). To add one (part 2's
 * cluster watcher, registry, registry proxy, load balancer server), write a `SandboxComponent`
 * in its own file and add it to SANDBOX_COMPONENTS below; `up`, `down`, `status` and the
 * state file pick it up. A component that needs an earlier one's port reads it from
 * `ctx.started[name]`. docs/sandbox.md, "Components", says more.
 */

/** What a component's start and health see. */
export interface ComponentContext {
  paths: SandboxPaths;
  /** Cache shared by sandboxes (virtualenv, binaries). */
  cacheDir: string;
  /** The package root (holds sandbox/ and src/ or dist/). */
  root: string;
  region: string;
  /** Components already started by this `up`, by name (all of them for health checks). */
  started: Record<string, ComponentRecord>;
  /** Tells the person waiting what takes long (installing, building); shown by `up`. */
  note(message: string): void;
}

/** Result of a health check. */
export interface ComponentHealth {
  ok: boolean;
  detail?: string;
  /** Not healthy and never will be (e.g. its start-up failed): `up` stops waiting at once. */
  fatal?: boolean;
}

/** One long-running process of the sandbox. */
export interface SandboxComponent {
  name: string;
  description: string;
  /** Starts the process (usually with startProcess) and resolves once it listens. */
  start(ctx: ComponentContext): Promise<ComponentRecord>;
  /** Is it serving? `up` polls this until ok (up to readyTimeoutMs) before starting the next one. */
  health(record: ComponentRecord, ctx: ComponentContext): Promise<ComponentHealth>;
  readyTimeoutMs?: number;
  /**
   * Files or directories holding the component's code. When their content changes, `status`
   * calls the running process stale and `up` restarts it (no test runs against old code).
   */
  sources?(ctx: ComponentContext): string[];
  /** Extra cleanup after its pid is stopped (child processes, files); optional. */
  afterStop?(record: ComponentRecord, ctx: ComponentContext): Promise<void>;
}

/** Every component, in start order. */
export const SANDBOX_COMPONENTS: readonly SandboxComponent[] = [
  motoComponent,
  proxyComponent,
  registryComponent,
  registryProxyComponent,
  clusterWatcherComponent,
  loadBalancersComponent,
];
