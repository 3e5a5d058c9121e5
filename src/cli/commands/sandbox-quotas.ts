import type { Command } from "commander";
import { KubecontrolError } from "../../errors.js";
import { adminCall } from "../../sandbox/admin-client.js";
import { requireUp } from "../../sandbox/lifecycle.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { dirOf, json, out } from "./sandbox-output.js";

/**
 * `kubecontrol sandbox quotas [CODE=VALUE|CODE=default ...]`: sets the applied values the
 * sandbox's Service Quotas answers and enforces (the launcher setting `quotas`), then shows them.
 */
export async function sandboxQuotasCommand(cmd: Command, settings: string[]): Promise<number> {
  const changes: Record<string, number | null> = {};
  for (const s of settings) {
    const m = /^(L-[0-9A-Fa-f]+)=(default|\d+(?:\.\d+)?)$/.exec(s);
    if (!m)
      throw new KubecontrolError("USAGE", `invalid quota setting ${s}`, {
        hint: "write CODE=VALUE (L-53DA6B97=1) or CODE=default",
      });
    changes[m[1]!] = m[2] === "default" ? null : Number(m[2]);
  }
  const url = `${requireUp(dirOf(cmd)).components.moto!.address}/_sandbox/config`;
  const config = await adminCall<{ quotas: Record<string, number> }>(
    url,
    settings.length ? { body: { quotas: changes } } : {},
  );
  if (globalOptions(cmd).json) json(config.quotas);
  else {
    const entries = Object.entries(config.quotas);
    out(
      entries.length ? entries.map(([code, value]) => `${code}=${value}`).join("\n") : "AWS's default quotas",
    );
  }
  return ExitCode.OK;
}
