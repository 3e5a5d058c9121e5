import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { KubecontrolError } from "../errors.js";

/** One started process of the sandbox, as recorded in state.json. */
export interface ComponentRecord {
  name: string;
  pid: number;
  /** Loopback port it serves on, when it serves one. */
  port?: number;
  /** URL (or address) for people and for components started after it. */
  address?: string;
  logFile: string;
  pidFile: string;
  /** A string that /proc/<pid>/cmdline must contain for the pid to still be ours. */
  marker: string;
  startedAt: string;
  /** The component's sources when it started, and their codeVersion then. */
  codeSources?: string[];
  codeVersion?: string;
}

/** The sandbox's recorded state: what `up` started, for `down`, `status` and `env`. */
export interface SandboxState {
  version: 1;
  dir: string;
  region: string;
  startedAt: string;
  /** The components it was started with, when not all of them (`sandbox up --only`). */
  only?: string[];
  components: Record<string, ComponentRecord>;
}

/** Reads state.json, or undefined when the sandbox was never started (or was stopped). */
export function readState(stateFile: string): SandboxState | undefined {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as SandboxState;
  } catch (err) {
    throw new KubecontrolError("SANDBOX", `sandbox state ${stateFile} is unreadable`, {
      hint: "run `kubecontrol sandbox down` to stop what it recorded, or delete the file if nothing runs",
      cause: err,
    });
  }
}

/** Writes state.json atomically (a reader never sees half a file). */
export function writeState(stateFile: string, state: SandboxState): void {
  mkdirSync(path.dirname(stateFile), { recursive: true });
  writeFileSync(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${stateFile}.tmp`, stateFile);
}
