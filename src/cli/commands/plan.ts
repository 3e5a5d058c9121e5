import path from "node:path";
import type { Command } from "commander";
import { resolveVersion } from "../../images/version.js";
import type { Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import { loadApp } from "../../spec/loader.js";
import { globalOptions } from "../context.js";
import { commandSetup } from "../load.js";
import { table } from "../table.js";

/** `kubecontrol plan <app>`: the desired AWS resources and Kubernetes objects, changing nothing. */
export async function planCommand(cmd: Command, name: string): Promise<number> {
  const { appsDir, loadOptions } = await commandSetup(cmd);
  const opts = cmd.opts<{ colour: Colour; version: string; output: "text" | "yaml" | "json" }>();
  const { app } = await loadApp(appsDir, name, loadOptions);
  const version = await resolveVersion(app, path.dirname(appsDir), opts.version, { trustFullSha: true });
  const plan = planApp({ app, colour: opts.colour, version });
  const format = globalOptions(cmd).json ? "json" : opts.output;
  if (format === "json") process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else if (format === "yaml") {
    const { stringify } = await import("yaml");
    process.stdout.write(stringify(plan, { aliasDuplicateObjects: false, lineWidth: 0 }));
  } else process.stdout.write(`${renderPlanText(plan)}\n`);
  return 0;
}

/** The plan for people: what, where, and the hash to compare runs by. */
export function renderPlanText(plan: Plan): string {
  const aws = table(
    ["SCOPE", "KIND", "NAME", "AFTER"],
    plan.aws.map((r) => [r.scope, r.kind, r.name, r.dependsOn.join(",") || "-"]),
  );
  const kube = table(
    ["KIND", "NAMESPACE", "NAME"],
    plan.kubernetes.map((o) => [o.kind, o.metadata.namespace ?? "-", o.metadata.name]),
  );
  return [
    `app ${plan.app}, colour ${plan.colour}, version ${plan.version}, region ${plan.region}`,
    `cluster ${plan.cluster}, image ${plan.image}`,
    "",
    `AWS resources (${plan.aws.length}):`,
    aws,
    "",
    `Kubernetes objects (${plan.kubernetes.length}):`,
    kube,
    "",
    `plan hash ${plan.hash}`,
  ].join("\n");
}
