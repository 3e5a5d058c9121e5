import type { AppStatus } from "../engine/observe/app-status.js";
import { parseStatusSnapshot, readSnapshotText } from "../engine/observe/status-snapshot.js";
import { KubecontrolError } from "../errors.js";

/** One app of the fleet page: its status as `kubecontrol status` reads it, and the nodes its spec asks for. */
export interface FleetEntry {
  status: AppStatus;
  /** The nodes the spec's pools ask for (desired, else min), when the spec is known. */
  desiredNodes?: number | undefined;
}

/** The fleet as last read: when, and from where. */
export interface FleetView {
  apps: FleetEntry[];
  readAt: number;
  source: "live" | "snapshot";
  /** Specs that do not load, shown above the fleet. */
  problems: string[];
}

/** Where the console's fleet page gets the fleet's state from. */
export interface FleetSource {
  read(): Promise<FleetView>;
  close(): Promise<void>;
}

/**
 * The fleet from a snapshot file: what `kubecontrol status --all -o json` prints (`{"apps": [...]}`,
 * or a bare array of the same), read once. For demos and benchmarks: nothing is read live.
 */
export async function snapshotFleet(file: string): Promise<FleetSource> {
  let text: string;
  try {
    text = await readSnapshotText(file, `--snapshot ${file}`);
  } catch (err) {
    if (err instanceof KubecontrolError) throw err;
    throw new KubecontrolError("NOT_FOUND", `--snapshot ${file}: ${(err as Error).message}`, {
      hint: "make one with: kubecontrol status --all -o json > fleet.json",
    });
  }
  const apps = parseStatusSnapshot(text, `--snapshot ${file}`);
  const readAt = Math.max(0, ...apps.map((a) => a.readAt));
  const view: FleetView = {
    apps: apps.map((status) => ({ status })),
    readAt,
    source: "snapshot",
    problems: [],
  };
  return { read: async () => view, close: async () => {} };
}

/**
 * Reads through `load` at most once per `ttlMs`: requests within it share the last answer, and
 * requests while a read is under way wait for that read, so ten open browsers cause one read.
 */
export function cached<T>(load: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return Promise.resolve(last.value);
    inflight ??= load()
      .then((value) => {
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
