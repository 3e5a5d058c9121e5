import type { Command } from "commander";
import { KubecontrolError } from "../../errors.js";
import { formatEnvForShell, sandboxEnv } from "../../sandbox/env.js";
import {
  requireUp,
  type SandboxEvent,
  sandboxDown,
  sandboxReset,
  sandboxStatus,
  sandboxUp,
} from "../../sandbox/lifecycle.js";
import {
  defaultSeedRequirements,
  type SeedRequirements,
  seedRequirementsFromApps,
} from "../../sandbox/seed.js";
import { loadApps } from "../../spec/loader.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { commandSetup } from "../load.js";
import { reportError } from "../run-action.js";
import { table } from "../table.js";
import { dirOf, json, out, type SandboxOpts } from "./sandbox-output.js";

/** The seed from the company defaults plus what the apps in --apps name (if that directory exists). */
async function seedFor(cmd: Command, region?: string): Promise<{ region: string; seed: SeedRequirements }> {
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const sandboxRegion = region ?? config.values.region;
  const base = defaultSeedRequirements(sandboxRegion, config.values.dnsZone);
  let apps: Awaited<ReturnType<typeof loadApps>>["apps"] = [];
  try {
    const loaded = await loadApps(appsDir, loadOptions);
    apps = loaded.apps;
    // A broken spec must not keep the sandbox from starting; say what was skipped.
    for (const e of loaded.errors) reportError(e, false);
  } catch (err) {
    if (!(err instanceof KubecontrolError && err.code === "NOT_FOUND")) throw err;
  }
  return {
    region: sandboxRegion,
    seed: seedRequirementsFromApps(
      apps.map((a) => a.app),
      base,
    ),
  };
}

function renderEvent(event: SandboxEvent): void {
  if (event.type === "started")
    process.stderr.write(
      `  ${event.component.padEnd(8)} ${event.address ?? ""}  (${(event.ms / 1000).toFixed(1)}s)\n`,
    );
  if (event.type === "note") process.stderr.write(`  ${event.component.padEnd(8)} ${event.message}\n`);
  if (event.type === "stopped") process.stderr.write(`  ${event.component.padEnd(8)} ${event.outcome}\n`);
}

/** `kubecontrol sandbox up`. */
export async function sandboxUpCommand(cmd: Command): Promise<number> {
  const opts = cmd.opts<SandboxOpts>();
  const asJson = globalOptions(cmd).json;
  const { region, seed } = await seedFor(cmd, opts.region);
  const result = await sandboxUp({
    dir: dirOf(cmd),
    only: opts.only?.split(",").map((n) => n.trim()),
    region,
    seed,
    onEvent: asJson ? undefined : renderEvent,
  });
  if (asJson) json(result);
  else if (result.alreadyUp) out(`sandbox already up in ${result.dir}; nothing changed`);
  else
    out(
      `sandbox up in ${(result.ms / 1000).toFixed(1)}s (${result.dir})\nnext: eval "$(kubecontrol sandbox env${dirOf(cmd) ? ` --dir ${dirOf(cmd)}` : ""})"`,
    );
  return ExitCode.OK;
}

/** `kubecontrol sandbox down`. */
export async function sandboxDownCommand(cmd: Command): Promise<number> {
  const asJson = globalOptions(cmd).json;
  const result = await sandboxDown(dirOf(cmd), asJson ? undefined : renderEvent);
  if (asJson) json(result);
  else
    out(
      result.wasUp ? `sandbox down (${result.dir})` : `no sandbox was up in ${result.dir}; nothing to stop`,
    );
  return ExitCode.OK;
}

/** `kubecontrol sandbox status`: exit 0 when every component is up, 1 otherwise. */
export async function sandboxStatusCommand(cmd: Command): Promise<number> {
  const status = await sandboxStatus(dirOf(cmd));
  if (globalOptions(cmd).json) json(status);
  else {
    const rows = status.components.map((c) => [
      c.name,
      c.state,
      c.address ?? "-",
      c.pid ? String(c.pid) : "-",
      c.detail ?? "",
    ]);
    out(`sandbox ${status.dir}${status.region ? ` (${status.region})` : ""}`);
    out(table(["COMPONENT", "STATE", "ADDRESS", "PID", "DETAIL"], rows));
  }
  return status.up ? ExitCode.OK : ExitCode.FAILURE;
}

/** `kubecontrol sandbox reset`. */
export async function sandboxResetCommand(cmd: Command): Promise<number> {
  const state = requireUp(dirOf(cmd));
  const { seed } = await seedFor(cmd, state.region);
  const result = await sandboxReset(dirOf(cmd), seed);
  if (globalOptions(cmd).json) json(result);
  else out(`sandbox reset to its seed (${result.dir}); call counts and fault rules cleared`);
  return ExitCode.OK;
}

/** `kubecontrol sandbox env`. */
export async function sandboxEnvCommand(cmd: Command): Promise<number> {
  const env = sandboxEnv(requireUp(dirOf(cmd)));
  if (globalOptions(cmd).json) json(env);
  else out(formatEnvForShell(env));
  return ExitCode.OK;
}
