import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { AccessEntry } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  resultOf,
  type StackEnv,
} from "./stack-env.js";

interface Needed {
  exists: boolean;
  entryArn?: string;
  policies: string[];
  tags: Record<string, string>;
}

/** The principal ARN an access entry is for. */
export function principalArn(r: AccessEntry, ctx: StepContext): string {
  const p = r.properties.principal;
  return "arn" in p ? p.arn : resultOf(ctx, p.role).arn;
}

/** Ensures an EKS access entry of a principal, with exactly the plan's access policies added. */
export function ensureAccessEntryStep(r: AccessEntry, env: StackEnv): Step<Needed, { principalArn: string }> {
  const { eks } = env.aws;
  const p = r.properties;
  const deps = [ensureName(p.cluster), ...("role" in p.principal ? [ensureName(p.principal.role)] : [])];
  return awsStep<Needed, { principalArn: string }>({
    name: ensureName(r.id),
    description: `access entry ${r.name} (${p.type})`,
    dependsOn: deps,
    timeoutMs: 300_000,
    async check(ctx) {
      const cluster = resultOf(ctx, p.cluster).name;
      const arn = principalArn(r, ctx);
      const entry = await eks.describeAccessEntry(cluster, arn);
      if (!entry)
        return {
          satisfied: false,
          reason: "missing",
          needed: { exists: false, policies: p.policies.map((x) => x.policyArn), tags: {} },
        };
      const associated = new Set(
        p.policies.length
          ? (await eks.listAssociatedAccessPolicies(cluster, arn)).map((a) => a.policyArn)
          : [],
      );
      const needed: Needed = {
        exists: true,
        entryArn: entry.accessEntryArn,
        policies: p.policies.map((x) => x.policyArn).filter((x) => !associated.has(x)),
        tags: claimTags(r, entry.tags ?? {}, env),
      };
      if (needed.policies.length === 0 && Object.keys(needed.tags).length === 0)
        return { satisfied: true, reason: "in place", value: { principalArn: arn } };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(ctx, n) {
      const cluster = resultOf(ctx, p.cluster).name;
      const arn = principalArn(r, ctx);
      if (!n.exists) {
        await createOrAdopt(
          () =>
            eks
              .createAccessEntry({
                clusterName: cluster,
                principalArn: arn,
                type: p.type,
                tags: creationTags(r.tags, env.runId),
              })
              .catch((err: unknown) => {
                throw refusedPrincipal(err, arn) ?? err;
              }),
          ownedFind(
            () => eks.describeAccessEntry(cluster, arn),
            (e) => e.tags,
            r,
            env,
          ),
          ["ResourceInUseException"],
        );
      } else if (Object.keys(n.tags).length && n.entryArn) {
        await eks.tagResource(n.entryArn, n.tags, `access entry ${arn}`);
      }
      // Associating a policy again replaces it with the same scope: safe to retry.
      for (const policyArn of n.policies)
        await eks.associateAccessPolicy({
          clusterName: cluster,
          principalArn: arn,
          policyArn,
          accessScope: { type: "cluster" },
        });
      return { principalArn: arn };
    },
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
