import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { KubecontrolError } from "../../errors.js";
import { adminCall } from "../../sandbox/admin-client.js";
import { requireUp } from "../../sandbox/lifecycle.js";
import { FaultRuleSchema, FaultRulesSchema } from "../../sandbox/proxy/faults.js";
import { globalOptions } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { table } from "../table.js";
import { dirOf, json, out } from "./sandbox-output.js";

function proxyUrl(cmd: Command): string {
  return `${requireUp(dirOf(cmd)).components.proxy!.address}/_proxy/faults`;
}

function printRules(cmd: Command, result: { rules: unknown[] }): void {
  if (globalOptions(cmd).json) {
    json(result);
    return;
  }
  if (result.rules.length === 0) {
    out("no fault rules");
    return;
  }
  const rows = (result.rules as Record<string, unknown>[]).map((r) => [
    String(r.operation),
    String(r.kind),
    String(r.rate),
    String(r.seed),
    r.delayMs === undefined ? "-" : String(r.delayMs),
    r.maxAttempt === undefined ? "-" : String(r.maxAttempt),
  ]);
  out(table(["OPERATION", "KIND", "RATE", "SEED", "DELAY-MS", "MAX-ATTEMPT"], rows));
}

/** `kubecontrol sandbox faults`. */
export async function sandboxFaultsShowCommand(cmd: Command): Promise<number> {
  printRules(cmd, await adminCall<{ rules: unknown[] }>(proxyUrl(cmd)));
  return ExitCode.OK;
}

/** `kubecontrol sandbox faults add <operation> <kind>`. */
export async function sandboxFaultsAddCommand(
  cmd: Command,
  operation: string,
  kind: string,
): Promise<number> {
  const o = cmd.opts<{ rate: string; seed: string; delayMs?: string; maxAttempt?: string }>();
  const parsed = FaultRuleSchema.safeParse({
    operation,
    kind,
    rate: Number(o.rate),
    seed: /^\d+$/.test(o.seed) ? Number(o.seed) : o.seed,
    delayMs: o.delayMs === undefined ? undefined : Number(o.delayMs),
    maxAttempt: o.maxAttempt === undefined ? undefined : Number(o.maxAttempt),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KubecontrolError(
      "USAGE",
      `invalid fault rule: ${issue.path.join(".") || "rule"}: ${issue.message}`,
      {
        hint: "kind is one of latency, throttle, 5xx, timeout, garbage, lost-response; --rate is 0..1",
      },
    );
  }
  printRules(
    cmd,
    await adminCall<{ rules: unknown[] }>(`${proxyUrl(cmd)}/append`, { body: { rules: [parsed.data] } }),
  );
  return ExitCode.OK;
}

/** `kubecontrol sandbox faults set <file>`. */
export async function sandboxFaultsSetCommand(cmd: Command, file: string): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
  } catch (err) {
    throw new KubecontrolError("USAGE", `cannot read fault rules from ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = FaultRulesSchema.safeParse(Array.isArray(raw) ? { rules: raw } : raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KubecontrolError("USAGE", `${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  printRules(cmd, await adminCall<{ rules: unknown[] }>(proxyUrl(cmd), { body: parsed.data }));
  return ExitCode.OK;
}

/** `kubecontrol sandbox faults clear`. */
export async function sandboxFaultsClearCommand(cmd: Command): Promise<number> {
  printRules(cmd, await adminCall<{ rules: unknown[] }>(proxyUrl(cmd), { method: "DELETE" }));
  return ExitCode.OK;
}
