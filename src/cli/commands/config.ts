import type { Command } from "commander";
import {
  CONFIG_ENV,
  CONFIG_HELP,
  type ConfigKey,
  type ConfigSource,
  loadConfig,
} from "../../config/config.js";
import { redact } from "../../io/redact.js";
import { globalOptions } from "../context.js";
import { table } from "../table.js";

function describeSource(s: ConfigSource): string {
  return s.kind === "default" ? "default" : s.kind === "file" ? `file ${s.path}` : `env ${s.name}`;
}

/** `kubecontrol config`: the operator settings in force and where each came from. */
export async function configCommand(cmd: Command): Promise<number> {
  const g = globalOptions(cmd);
  const { output } = cmd.opts<{ output: string }>();
  const config = await loadConfig(g.config);
  const keys = Object.keys(config.values) as ConfigKey[];
  if (g.json || output === "json") {
    const entries = keys.map((k) => ({
      key: k,
      // historyStore may be a URL with a password.
      value: typeof config.values[k] === "string" ? redact(config.values[k]) : config.values[k],
      source: config.sources[k],
      env: CONFIG_ENV[k],
      help: CONFIG_HELP[k],
    }));
    process.stdout.write(`${JSON.stringify({ file: config.file ?? null, settings: entries }, null, 2)}\n`);
    return 0;
  }
  const rows = keys.map((k) => [
    k,
    redact(String(config.values[k])),
    describeSource(config.sources[k]),
    CONFIG_ENV[k].join(" | "),
  ]);
  process.stdout.write(`${table(["KEY", "VALUE", "SOURCE", "ENVIRONMENT"], rows)}\n`);
  process.stdout.write(`\nconfiguration file: ${config.file ?? "none (defaults and environment only)"}\n`);
  return 0;
}
