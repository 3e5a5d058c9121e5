import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { KubecontrolError } from "../errors.js";
import type { ComponentRecord } from "./state.js";

/** How to start one long-running sandbox process. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logDir: string;
  runDir: string;
  /** Must appear in the process's command line (the sandbox dir, usually): proves a pid is ours. */
  marker: string;
  /** The process writes its bound port here once it listens (it binds port 0 itself: no race). */
  portFile?: string;
  /** How long to wait for the port file. */
  startTimeoutMs?: number;
}

/** The command line of a live process, or undefined when there is none with that pid. */
export function processCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and still the process we started (its cmdline has our marker). */
export function ownsPid(pid: number, marker: string): boolean {
  const cmdline = processCmdline(pid);
  if (cmdline === undefined) return false;
  // A zombie has an empty cmdline: it is ours but already dead.
  return cmdline !== "" && cmdline.includes(marker);
}

/** The last lines of a log file, for error messages. */
export function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Starts a detached process logging to <logDir>/<name>.log; resolves once its port file appears. */
export async function startProcess(spec: ProcessSpec): Promise<ComponentRecord> {
  mkdirSync(spec.logDir, { recursive: true });
  mkdirSync(spec.runDir, { recursive: true });
  const logFile = path.join(spec.logDir, `${spec.name}.log`);
  const pidFile = path.join(spec.runDir, `${spec.name}.pid`);
  if (spec.portFile) rmSync(spec.portFile, { force: true });
  const out = openSync(logFile, "a");
  writeFileSync(out, `--- ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(" ")}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    // The SDK's Node 20 notice would fill every component's log on each start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...(spec.env ?? process.env) },
    detached: true, // its own process group: a Ctrl-C on `sandbox up` does not stop the sandbox
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    throw new KubecontrolError("SANDBOX", `could not start ${spec.name}: ${(await spawnError).message}`, {
      hint: `check that ${spec.command} exists and is executable`,
    });
  }
  writeFileSync(pidFile, `${pid}\n`);
  const record: ComponentRecord = {
    name: spec.name,
    pid,
    logFile,
    pidFile,
    marker: spec.marker,
    startedAt: new Date().toISOString(),
  };
  if (!spec.portFile) return record;

  const deadline = Date.now() + (spec.startTimeoutMs ?? 30_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (existsSync(spec.portFile)) {
      const port = Number(readFileSync(spec.portFile, "utf8").trim());
      if (port > 0) return { ...record, port };
    }
    if (exitCode !== undefined) {
      throw new KubecontrolError("SANDBOX", `${spec.name} exited (code ${exitCode}) before it listened`, {
        hint: `its log, ${logFile}, ends with:\n${logTail(logFile)}`,
      });
    }
    await delay(50);
  }
  await stopProcess(record);
  throw new KubecontrolError(
    "SANDBOX",
    `${spec.name} did not listen within ${(spec.startTimeoutMs ?? 30_000) / 1000}s`,
    {
      hint: `its log, ${logFile}, ends with:\n${logTail(logFile)}`,
    },
  );
}

/** Stops a recorded process if it is still ours: SIGTERM, then SIGKILL after `graceMs`. Returns what happened. */
export async function stopProcess(
  record: Pick<ComponentRecord, "pid" | "marker" | "pidFile">,
  graceMs = 5000,
): Promise<"stopped" | "killed" | "not-running" | "not-ours"> {
  const cmdline = processCmdline(record.pid);
  let outcome: "stopped" | "killed" | "not-running" | "not-ours";
  if (cmdline === undefined || cmdline === "") outcome = "not-running";
  else if (!cmdline.includes(record.marker)) outcome = "not-ours";
  else {
    process.kill(record.pid, "SIGTERM");
    outcome = "stopped";
    const deadline = Date.now() + graceMs;
    while (ownsPid(record.pid, record.marker)) {
      if (Date.now() > deadline) {
        process.kill(record.pid, "SIGKILL");
        outcome = "killed";
        break;
      }
      await delay(25);
    }
  }
  rmSync(record.pidFile, { force: true });
  return outcome;
}
