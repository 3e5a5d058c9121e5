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

/**
 * The apps a fleet command acts on: those named, or with `--all` every app in the apps directory,
 * by name. A named app that is not there is NOT_FOUND (or its spec's own error, when a spec does
 * not load); with `--all` the specs that do not load are returned as `broken` for the command to
 * show (and exit 3 for), not skipped in silence. USAGE when neither is given.
 */
export async function selectApps(
  appsDir: string,
  loadOptions: LoadOptions,
  names: string[],
  all: boolean | undefined,
  command = "status",
): Promise<{
  apps: import("../spec/resolve.js").ResolvedKubeApp[];
  broken: import("../errors.js").KubecontrolError[];
}> {
  const [{ loadApps }, { KubecontrolError }] = await Promise.all([
    import("../spec/loader.js"),
    import("../errors.js"),
  ]);
  if (names.length === 0 && !all)
    throw new KubecontrolError("USAGE", "name the apps, or pass --all", {
      hint: `for example: kubecontrol ${command} webapp hello, or kubecontrol ${command} --all`,
    });
  const { apps, errors } = await loadApps(appsDir, loadOptions);
  const known = new Map(apps.map(({ app }) => [app.name, app]));
  const unknown = names.filter((n) => !known.has(n));
  // A named app that is not there may be one whose spec does not load: that error says why.
  if (unknown.length && errors.length) throw errors[0];
  if (unknown.length)
    throw new KubecontrolError("NOT_FOUND", `no app named ${unknown.join(", ")} in ${appsDir}`, {
      hint: "kubecontrol list shows the apps",
    });
  const chosen = names.length ? names.map((n) => known.get(n)!) : [...known.values()];
  return {
    apps: chosen.sort((a, b) => a.name.localeCompare(b.name)),
    broken: names.length ? [] : errors,
  };
}
