import type { Role } from "@aws-sdk/client-iam";
import type { IamRole } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { type StackEnv, tagList, tagRecord } from "./stack-env.js";

/** What later steps need of a role. */
export interface RoleRef {
  name: string;
  arn: string;
}

interface Changes {
  trust: boolean;
  policies: string[];
  /** Inline policies to write (a document) or delete (null). */
  inline: Record<string, string | null>;
}

function sameDocument(a: string | undefined, b: string): boolean {
  try {
    return a !== undefined && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The inline policies that differ from the plan's. */
async function inlineToChange(
  iam: StackEnv["aws"]["iam"],
  role: string,
  wanted: Record<string, string | null>,
): Promise<Record<string, string | null>> {
  const names = Object.keys(wanted);
  const current = await Promise.all(names.map((n) => iam.inlinePolicy(role, n)));
  const changes: Record<string, string | null> = {};
  names.forEach((n, i) => {
    const want = wanted[n]!;
    if (want === null ? current[i] !== undefined : !sameDocument(current[i], want)) changes[n] = want;
  });
  return changes;
}

/** The trust policy letting one AWS service assume a role. */
export function trustPolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

function trusts(document: string | undefined, service: string): boolean {
  if (!document) return false;
  try {
    const parsed = JSON.parse(decodeURIComponent(document)) as {
      Statement?: {
        Effect?: string;
        Principal?: { Service?: string | string[] };
        Action?: string | string[];
      }[];
    };
    return (parsed.Statement ?? []).some(
      (s) => s.Effect === "Allow" && [s.Principal?.Service].flat().includes(service),
    );
  } catch {
    return false;
  }
}

/** Ensures an IAM role with its trust policy, managed policies and tags. */
export function ensureIamRoleStep(
  r: IamRole,
  env: Pick<StackEnv, "aws" | "runId" | "adopt">,
): Step<EnsureNeeded<Role, Changes>, RoleRef> {
  const { iam } = env.aws;
  const p = r.properties;
  return ensureStep<Role, Changes, RoleRef>({
    r,
    env,
    description: `IAM role ${r.name} (${p.purpose})`,
    dependsOn: [],
    timeoutMs: 300_000,
    find: () => iam.getRole(r.name),
    tagsOf: (role) => tagRecord(role.Tags),
    async diff(_ctx, role) {
      // A new role is made with its trust policy and tags; its policies come after.
      if (!role)
        return {
          trust: false,
          policies: p.managedPolicies,
          inline: Object.fromEntries(Object.entries(p.inlinePolicies ?? {}).filter(([, d]) => d !== null)),
        };
      const attached = new Set(await iam.attachedPolicies(r.name));
      return {
        trust: !trusts(role.AssumeRolePolicyDocument, p.service),
        policies: p.managedPolicies.filter((a) => !attached.has(a)),
        inline: await inlineToChange(iam, r.name, p.inlinePolicies ?? {}),
      };
    },
    create: (_ctx, tags) =>
      iam.createRole({
        RoleName: r.name,
        AssumeRolePolicyDocument: trustPolicy(p.service),
        Description: `kubecontrol ${p.purpose} role of ${r.tags["kubecontrol:app"]}`,
        Tags: tagList(tags),
      }),
    alreadyExists: ["EntityAlreadyExists", "EntityAlreadyExistsException"],
    tag: (_ctx, _role, tags) => iam.tagRole(r.name, tagList(tags)),
    async change(_ctx, _role, d) {
      if (d.trust) await iam.updateAssumeRolePolicy(r.name, trustPolicy(p.service));
      // Attaching is idempotent: a policy attached twice is attached once.
      for (const policy of d.policies) await iam.attachPolicy(r.name, policy);
      for (const [name, document] of Object.entries(d.inline)) {
        if (document === null) await iam.deleteInlinePolicy(r.name, name);
        else await iam.putInlinePolicy(r.name, name, document);
      }
    },
    ref: (role) => ({ name: r.name, arn: role.Arn! }),
    summary: (ref) => ref.arn,
  });
}
