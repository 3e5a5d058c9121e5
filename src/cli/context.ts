import type { Command } from "commander";

/** Global flags every command sees. */
export interface GlobalOptions {
  apps: string;
  config?: string;
  logLevel: string;
  json: boolean;
  color: boolean;
}

/** Reads the global flags from the root program. */
export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}
