import type { Command } from "commander";
import { KubecontrolError } from "../../errors.js";
import { loadApps } from "../../spec/loader.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { commandSetup } from "../load.js";
import { reportError } from "../run-action.js";

/** `kubecontrol validate [app...]`: loads and checks specs without touching AWS. */
export async function validateCommand(cmd: Command, names: string[]): Promise<number> {
  const { appsDir, loadOptions } = await commandSetup(cmd);
  const json = globalOptions(cmd).json;
  const { apps, errors } = await loadApps(appsDir, loadOptions);
  const wanted = names.length > 0 ? new Set(names) : undefined;
  const chosen = wanted ? apps.filter((a) => wanted.has(a.app.name)) : apps;
  // A named app that did not load may be one of the broken files: report those rather than "not found".
  const missing = wanted ? [...wanted].filter((n) => !apps.some((a) => a.app.name === n)) : [];
  const relevantErrors = wanted && missing.length === 0 ? [] : errors;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ valid: chosen.map((a) => ({ name: a.app.name, file: a.file })), errors: relevantErrors.map((e) => e.toJSON()), missing }, null, 2)}\n`,
    );
  } else {
    for (const a of chosen) process.stdout.write(`${a.file}: ${a.app.name} is valid\n`);
    for (const e of relevantErrors) reportError(e, false);
  }
  if (relevantErrors.length > 0) return ExitCode.INVALID_SPEC;
  if (missing.length > 0) {
    const err = new KubecontrolError(
      "NOT_FOUND",
      `no app named ${missing.map((m) => `"${m}"`).join(", ")} in ${appsDir}`,
      {
        hint: "see `kubecontrol list` for the apps there",
      },
    );
    if (!json) reportError(err, false);
    return ExitCode.NOT_FOUND;
  }
  if (chosen.length === 0 && !json) process.stderr.write(`no apps in ${appsDir}\n`);
  return ExitCode.OK;
}
