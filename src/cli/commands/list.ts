import type { Command } from "commander";
import { loadApps } from "../../spec/loader.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { commandSetup } from "../load.js";
import { reportError } from "../run-action.js";
import { table } from "../table.js";

/** `kubecontrol list`: the apps in the apps directory, one row each. */
export async function listCommand(cmd: Command): Promise<number> {
  const { appsDir, loadOptions } = await commandSetup(cmd);
  const { output } = cmd.opts<{ output: string }>();
  const json = globalOptions(cmd).json || output === "json";
  const { apps, errors } = await loadApps(appsDir, loadOptions);
  const rows = apps
    .map(({ file, app }) => ({
      name: app.name,
      owner: app.owner,
      region: app.region,
      pools: Object.keys(app.hardware),
      components: Object.keys(app.components),
      dns: app.dns?.record ?? null,
      strategy: app.deploy.strategy,
      schedule: app.deploy.schedule ?? null,
      file,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ apps: rows, errors: errors.map((e) => e.toJSON()) }, null, 2)}\n`,
    );
  } else if (output === "name") {
    if (rows.length > 0) process.stdout.write(`${rows.map((r) => r.name).join("\n")}\n`);
  } else if (rows.length > 0) {
    const body = rows.map((r) => [
      r.name,
      r.owner,
      r.region,
      r.pools.join(","),
      r.components.join(","),
      r.dns ?? "-",
      r.file,
    ]);
    process.stdout.write(
      `${table(["NAME", "OWNER", "REGION", "POOLS", "COMPONENTS", "DNS", "FILE"], body)}\n`,
    );
  } else if (errors.length === 0) {
    process.stderr.write(`no apps in ${appsDir}\n`);
  }
  if (!json) for (const e of errors) reportError(e, false);
  return errors.length > 0 ? ExitCode.INVALID_SPEC : ExitCode.OK;
}
