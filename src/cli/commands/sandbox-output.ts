import type { Command } from "commander";

/** Flags of the sandbox commands. */
export interface SandboxOpts {
  dir?: string;
  region?: string;
  only?: string;
}

/** --dir, wherever on the command line it was given (`sandbox faults --dir X add` or `... add --dir X`). */
export function dirOf(cmd: Command): string | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const dir = c.opts<SandboxOpts>().dir;
    if (dir) return dir;
  }
  return undefined;
}

/** Prints a line on stdout. */
export function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a JSON document on stdout. */
export function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}
