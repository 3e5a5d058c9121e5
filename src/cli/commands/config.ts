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

/**
 * A setting's value as shown: a store URL keeps its user and loses its password (read with a URL
 * parser; one the parser cannot read, a mistyped one, loses all its userinfo), and every other
 * value is scrubbed like any output.
 */
export function shownValue(key: ConfigKey, value: unknown): unknown {
  if (key === "notifyWebhooks" && Array.isArray(value)) return value.map(webhookShown);
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? redact(v) : v));
  if (typeof value !== "string") return value;
  if (key !== "historyStore") return redact(value);
  try {
    const u = new URL(value);
    if (u.password || u.searchParams.has("password")) {
      const user = u.username ? `${u.username}:` : ":";
      const query = [...u.searchParams]
        .map(([k, v]) => `${k}=${k === "password" ? "[REDACTED]" : v}`)
        .join("&");
      return `${u.protocol}//${u.password ? `${user}[REDACTED]@` : u.username ? `${u.username}@` : ""}${u.host}${u.pathname}${query ? `?${query}` : ""}`;
    }
    return redact(value);
  } catch {
    return redact(value);
  }
}

/** A webhook URL as shown: its scheme and host only; the path holds the token. */
export function webhookShown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/[REDACTED]`;
  } catch {
    return "[REDACTED]";
  }
}

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
      value: shownValue(k, config.values[k]),
      source: config.sources[k],
      env: CONFIG_ENV[k],
      help: CONFIG_HELP[k],
    }));
    process.stdout.write(`${JSON.stringify({ file: config.file ?? null, settings: entries }, null, 2)}\n`);
    return 0;
  }
  const rows = keys.map((k) => {
    const shown = shownValue(k, config.values[k]);
    return [
      k,
      Array.isArray(shown) ? shown.join(", ") || "-" : String(shown),
      describeSource(config.sources[k]),
      CONFIG_ENV[k].join(" | "),
    ];
  });
  process.stdout.write(`${table(["KEY", "VALUE", "SOURCE", "ENVIRONMENT"], rows)}\n`);
  process.stdout.write(`\nconfiguration file: ${config.file ?? "none (defaults and environment only)"}\n`);
  return 0;
}
