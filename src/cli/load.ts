import path from "node:path";
import type { Command } from "commander";
import { loadConfig, type ResolvedConfig } from "../config/config.js";
import { companyDefaults } from "../spec/defaults/company.js";
import type { LoadOptions } from "../spec/loader.js";
import { globalOptions } from "./context.js";

/** Operator configuration and spec-loading options for a command. */
export async function commandSetup(
  cmd: Command,
): Promise<{ config: ResolvedConfig; appsDir: string; loadOptions: LoadOptions }> {
  const g = globalOptions(cmd);
  const config = await loadConfig(g.config);
  const loadOptions: LoadOptions = {
    region: config.values.region,
    defaults: { ...companyDefaults, dnsZone: config.values.dnsZone },
  };
  return { config, appsDir: path.resolve(g.apps), loadOptions };
}
