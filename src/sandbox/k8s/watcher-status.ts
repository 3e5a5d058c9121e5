import { readFile, rename, writeFile } from "node:fs/promises";

/** One control plane as the watcher last saw it. */
export interface ControlPlaneStatus {
  state: "starting" | "ready" | "failed" | "waiting-for-capacity" | "deleting";
  endpoint?: string;
  /** Why it is failed or waiting, with what to do. */
  error?: string;
  attempts?: number;
  since: string;
}

/** What the cluster watcher writes for `sandbox status` to show. */
export interface WatcherStatus {
  pid: number;
  updatedAt: string;
  webhookUrl?: string;
  moto: { ok: boolean; error?: string; since: string };
  maxControlPlanes: number;
  controlPlanes: Record<string, ControlPlaneStatus>;
  nodes?: { ok: boolean; error?: string; count: number };
}

/** Where the watcher keeps its status, below the sandbox's k8s directory. */
export function watcherStatusPath(k8sDir: string): string {
  return `${k8sDir}/watcher-status.json`;
}

/** Writes the status atomically, so a reader never sees half a file. */
export async function writeWatcherStatus(k8sDir: string, status: WatcherStatus): Promise<void> {
  const path = watcherStatusPath(k8sDir);
  await writeFile(`${path}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** The watcher's last status, or undefined when it never wrote one. */
export async function readWatcherStatus(k8sDir: string): Promise<WatcherStatus | undefined> {
  try {
    return JSON.parse(await readFile(watcherStatusPath(k8sDir), "utf8")) as WatcherStatus;
  } catch {
    return undefined;
  }
}

/** Lines for `sandbox status`: moto reachability, each control plane and its problem if any. */
export function describeWatcherStatus(status: WatcherStatus): string[] {
  const lines = [
    `cluster watcher (pid ${status.pid}), updated ${status.updatedAt}`,
    status.moto.ok
      ? "  moto: reachable"
      : `  moto: unreachable since ${status.moto.since}: ${status.moto.error ?? ""}`,
  ];
  const names = Object.keys(status.controlPlanes).sort();
  if (names.length === 0) lines.push("  control planes: none");
  for (const name of names) {
    const cp = status.controlPlanes[name]!;
    const where = cp.endpoint ? ` ${cp.endpoint}` : "";
    lines.push(`  control plane ${name}: ${cp.state}${where}${cp.error ? ` — ${cp.error}` : ""}`);
  }
  if (status.nodes) {
    lines.push(
      status.nodes.ok
        ? `  nodes: ${status.nodes.count}`
        : `  nodes: sync failing: ${status.nodes.error ?? ""}`,
    );
  }
  return lines;
}

/** What is wrong, for the component's health check: moto unreachable, control planes failed or waiting. */
export function watcherProblems(status: WatcherStatus): string[] {
  const problems: string[] = [];
  if (!status.moto.ok && status.moto.error !== "not polled yet") {
    problems.push(`moto unreachable since ${status.moto.since}: ${status.moto.error ?? ""}`);
  }
  for (const [name, cp] of Object.entries(status.controlPlanes)) {
    if (cp.state === "failed" || cp.state === "waiting-for-capacity")
      problems.push(`${name}: ${cp.error ?? cp.state}`);
  }
  if (status.nodes && !status.nodes.ok) problems.push(`nodes: ${status.nodes.error ?? ""}`);
  return problems;
}
