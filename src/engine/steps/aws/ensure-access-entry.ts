import type { AccessEntry as EksAccessEntry } from "@aws-sdk/client-eks";
import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { AccessEntry } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { ensureName, resultOf, type StackEnv } from "./stack-env.js";

/** The principal ARN an access entry is for. */
export function principalArn(r: AccessEntry, ctx: StepContext): string {
  const p = r.properties.principal;
  return "arn" in p ? p.arn : resultOf(ctx, p.role).arn;
}

/** Ensures an EKS access entry of a principal, with exactly the plan's access policies added. */
export function ensureAccessEntryStep(
  r: AccessEntry,
  env: StackEnv,
): Step<EnsureNeeded<EksAccessEntry, { policies: string[] }>, { principalArn: string }> {
  const { eks } = env.aws;
  const p = r.properties;
  const deps = [ensureName(p.cluster), ...("role" in p.principal ? [ensureName(p.principal.role)] : [])];
  const cluster = (ctx: StepContext) => resultOf(ctx, p.cluster).name;
  const wanted = p.policies.map((x) => x.policyArn);
  return ensureStep<EksAccessEntry, { policies: string[] }, { principalArn: string }>({
    r,
    env,
    description: `access entry ${r.name} (${p.type})`,
    dependsOn: deps,
    timeoutMs: 300_000,
    find: (ctx) => eks.describeAccessEntry(cluster(ctx), principalArn(r, ctx)),
    tagsOf: (entry) => entry.tags,
    async diff(ctx, entry) {
      if (!entry || !wanted.length) return { policies: wanted };
      const associated = new Set(
        (await eks.listAssociatedAccessPolicies(cluster(ctx), principalArn(r, ctx))).map((a) => a.policyArn),
      );
      return { policies: wanted.filter((x) => !associated.has(x)) };
    },
    async create(ctx, tags) {
      const arn = principalArn(r, ctx);
      const made = await eks
        .createAccessEntry({ clusterName: cluster(ctx), principalArn: arn, type: p.type, tags })
        .catch((err: unknown) => {
          throw refusedPrincipal(err, arn) ?? err;
        });
      return made ?? {};
    },
    alreadyExists: ["ResourceInUseException"],
    async tag(ctx, entry, tags) {
      if (entry.accessEntryArn)
        await eks.tagResource(entry.accessEntryArn, tags, `access entry ${principalArn(r, ctx)}`);
    },
    async change(ctx, _entry, d) {
      // Associating a policy again replaces it with the same scope: safe to retry.
      for (const policyArn of d.policies)
        await eks.associateAccessPolicy({
          clusterName: cluster(ctx),
          principalArn: principalArn(r, ctx),
          policyArn,
          accessScope: { type: "cluster" },
        });
    },
    ref: (_entry, ctx) => ({ principalArn: principalArn(r, ctx) }),
  });
}

/**
 * EKS refuses an access entry whose principal is not the exact ARN of an existing IAM role or
 * user ("The specified principalArn is invalid: invalid principal"). Waiting cannot mend that;
 * say what the principal must be.
 */
function refusedPrincipal(err: unknown, arn: string): KubecontrolError | undefined {
  if (!hasCode(err, "InvalidParameterException") || !/principal/i.test(awsErrorMessage(err)))
    return undefined;
  return new KubecontrolError(
    "PRECONDITION",
    `EKS refused ${arn} as an access entry's principal: ${awsErrorMessage(err)}`,
    {
      hint: "the principal must be the exact ARN of an existing IAM role or user, its path included (aws iam get-role --role-name <name> shows it; an IAM Identity Center role lives under /aws-reserved/sso.amazonaws.com/)",
      cause: err,
    },
  );
}
