import type { Command } from "commander";
import { type KubecontrolError, toKubecontrolError } from "../errors.js";
import { redact } from "../io/redact.js";
import { globalOptions } from "./context.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";

/**
 * Wraps a command's implementation: loads it lazily, turns thrown errors into text (or JSON)
 * on stderr and a documented exit code. The only place besides main.ts that sets exit codes.
 */
export function action<A extends unknown[]>(
  impl: (cmd: Command, ...args: A) => Promise<number | undefined>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const positional = args.slice(0, -2) as A;
    try {
      const code = await impl(cmd, ...positional);
      if (typeof code === "number") process.exitCode = code;
    } catch (err) {
      const error = toKubecontrolError(err);
      reportError(error, globalOptions(cmd).json);
      process.exitCode = exitCodeFor(error.code);
    }
  };
}

/** Prints an error for people (stderr) or machines (one JSON line on stdout). */
export function reportError(error: KubecontrolError, json: boolean): void {
  if (json) {
    process.stdout.write(`${redact(JSON.stringify({ type: "error", error: error.toJSON() }))}\n`);
    return;
  }
  const lines = [`error: ${error.message}`];
  if (error.hint) lines.push(`hint: ${error.hint}`);
  if (error.code === "INTERNAL" && error.stack && process.env.KUBECONTROL_DEBUG) lines.push(error.stack);
  process.stderr.write(`${redact(lines.join("\n"))}\n`);
}

export { ExitCode };
