import { KubecontrolError } from "../../errors.js";
import { sdkCodeBuildApi } from "../../images/codebuild-api.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import { runSteps } from "../runner.js";
import type { Step } from "../step.js";
import { FIND_NETWORK } from "../steps/aws/stack-env.js";
import {
  assertAppOwned,
  type DestroyBase,
  destroyGraph,
  discover,
  plansOf,
} from "../workflows/destroy-graph.js";

/** A resource of the app that is live and that destroy deletes. */
export interface LiveResource {
  /** The step that deletes it. */
  step: string;
  /** The resource kind (`eks-cluster`, `iam-role`, `codebuild-project`…). */
  kind: string;
  /** Its AWS name (a DNS record: `<record>/<set identifier>`). */
  name: string;
  /** The colour it belongs to; undefined for app-scoped resources. */
  colour: Colour | undefined;
  /** Its ARN, or its id where AWS gives no ARN (security group, launch template, hosted zone). */
  ref: string | undefined;
  /** More to know (an ECR repository's image count). */
  detail?: string;
}

/** An ARN in what a lookup found, else the id AWS names it by. */
function arnOf(found: unknown): string | undefined {
  if (typeof found === "string") return found;
  if (!found || typeof found !== "object") return undefined;
  const o = found as Record<string, unknown>;
  for (const [k, v] of Object.entries(o))
    if (/arn$/i.test(k) && typeof v === "string" && v.startsWith("arn:")) return v;
  for (const k of ["GroupId", "LaunchTemplateId", "zoneId"])
    if (typeof o[k] === "string") return o[k] as string;
  return undefined;
}

// Listed as they go: each colour in teardown order, then the app-scoped resources.
const KIND_ORDER = [
  "route53-record",
  "listener",
  "load-balancer",
  "target-group",
  "auto-scaling-group",
  "launch-template",
  "eks-access-entry",
  "eks-cluster",
  "security-group",
  "codebuild-project",
  "ecr-repository",
  "iam-instance-profile",
  "iam-role",
];
const ORDER = (r: LiveResource) =>
  (r.colour === undefined ? 2 : COLOURS.indexOf(r.colour)) * 100 + KIND_ORDER.indexOf(r.kind);

/**
 * What destroy would delete, as found live: every step of the destroy graph checked (reads
 * only), each resource its check finds listed with its ARN or id. Nothing is changed, no lease
 * is taken, nothing is recorded.
 */
export async function destroyInventory(i: DestroyBase): Promise<LiveResource[]> {
  const codebuild = await sdkCodeBuildApi(i.awsOptions);
  await assertAppOwned(i, plansOf(i.app));
  const graph = destroyGraph(await discover(i, codebuild), i, codebuild, "inventory");
  const probes: Step[] = graph.steps
    .filter((s) => s.name === FIND_NETWORK || graph.targets.has(s.name))
    .map((s) =>
      s.name === FIND_NETWORK
        ? s
        : {
            name: s.name,
            description: s.description,
            dependsOn: [FIND_NETWORK],
            async check(ctx) {
              const c = await s.check(ctx);
              return c.satisfied
                ? { satisfied: true, reason: c.reason }
                : { satisfied: true, reason: c.reason, value: { found: c.needed ?? true } };
            },
          },
    );
  const report = await runSteps(probes, { concurrency: i.concurrency, signal: i.signal });
  if (report.cancelled) throw new KubecontrolError("CANCELLED", "interrupted: nothing was changed");
  const failed = report.steps.find((s) => s.status === "failed");
  if (failed?.error)
    throw failed.error instanceof KubecontrolError
      ? failed.error
      : new KubecontrolError("AWS", `looking for ${failed.name}'s resource failed: ${failed.error.message}`, {
          cause: failed.error,
        });

  const live: LiveResource[] = [];
  for (const [step, t] of graph.targets) {
    const value = report.results.get(step) as { found: unknown } | undefined;
    if (!value) continue;
    const { cluster: _, ...target } = t;
    live.push({
      step,
      ...target,
      ref: arnOf(value.found),
      ...(t.kind === "eks-access-entry" ? { detail: `of cluster ${t.cluster}` } : {}),
    });
  }
  await Promise.all(
    live
      .filter((r) => r.kind === "ecr-repository")
      .map(async (r) => {
        const n = await i.aws.ecr.imageCount(r.name);
        if (n !== undefined) r.detail = `${n} image${n === 1 ? "" : "s"}`;
      }),
  );
  return live.sort((a, b) => ORDER(a) - ORDER(b));
}
