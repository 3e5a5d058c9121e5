import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { KubecontrolError } from "../errors.js";
import type { HistoryStore } from "../history/types.js";

/** Who did something from the console: the console's user, and that it was through the console. */
export interface Actor {
  who: string;
  why: string;
}

/** Breaks an app's stale lease (the store refuses a live one) and records it with who and why. */
export async function breakStaleLease(store: HistoryStore, app: string, token: number, a: Actor) {
  try {
    const broken = await store.breakLease(app, { token, who: a.who, why: a.why, host: hostname() });
    await store.recordAction({
      at: Date.now(),
      app,
      action: "break-lease",
      who: a.who,
      why: a.why,
      detail: `lease of ${broken.lease.owner} (pid ${broken.lease.pid} on ${broken.lease.host}, token ${broken.lease.token})${broken.interrupted.length ? `; closed as interrupted: ${broken.interrupted.join(", ")}` : ""}`,
      result: "succeeded",
    });
    return broken;
  } catch (err) {
    await store.recordAction({
      at: Date.now(),
      app,
      action: "break-lease",
      who: a.who,
      why: a.why,
      detail: `token ${token}: ${(err as Error).message}`,
      result: "refused",
    });
    throw err;
  }
}

/** How the console runs the CLI for an action (its own bin and apps directory). */
export interface CliTarget {
  node: string;
  bin: string;
  appsDir: string;
  config?: string | undefined;
}

/**
 * Switches (rolls back) an app to `colour` by running `kubecontrol switch <app> --to <colour>
 * --yes`: the one place the console acts through the switch command, which takes the app's
 * lease and records its own run. The console's user runs it (history's who); the reason goes
 * in its environment as KUBECONTROL_REASON, and the console records the action with who and why.
 * A kubecontrol without `switch` answers "unknown command" (exit 2): reported as such.
 */
export async function switchColour(
  store: HistoryStore,
  cli: CliTarget,
  app: string,
  colour: "blue" | "green",
  a: Actor,
): Promise<{ exitCode: number; output: string }> {
  const args = [
    cli.bin,
    ...(cli.config ? ["--config", cli.config] : []),
    "--apps",
    cli.appsDir,
    "switch",
    app,
    "--to",
    colour,
    "--yes",
  ];
  const result = await new Promise<{ exitCode: number; output: string }>((resolve) => {
    const child = spawn(cli.node, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KUBECONTROL_TRIGGER: "person", KUBECONTROL_REASON: a.why, NO_COLOR: "1" },
    });
    let output = "";
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-8000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => resolve({ exitCode: 1, output: err.message }));
    child.on("close", (code) => resolve({ exitCode: code ?? 1, output }));
  });
  const missing = result.exitCode === 2 && /unknown command/i.test(result.output);
  await store.recordAction({
    at: Date.now(),
    app,
    action: "switch",
    who: a.who,
    why: a.why,
    detail: `to ${colour}: ${missing ? "this kubecontrol has no switch command" : `exit ${result.exitCode}`}`,
    result: result.exitCode === 0 ? "succeeded" : "failed",
  });
  if (missing)
    throw new KubecontrolError("PREREQUISITE_MISSING", "this kubecontrol has no `switch` command yet", {
      hint: "upgrade kubecontrol, or run the switch from a terminal",
    });
  return result;
}
