import type { IamRole } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What later steps need of a role. */
export interface RoleRef {
  name: string;
  arn: string;
}

interface Needed {
  exists: boolean;
  trust: boolean;
  policies: string[];
  /** Inline policies to write (a document) or delete (null). */
  inline: Record<string, string | null>;
  tags: Record<string, string>;
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
): Step<Needed, RoleRef> {
  const { iam } = env.aws;
  const p = r.properties;
  return awsStep<Needed, RoleRef>({
    name: ensureName(r.id),
    description: `IAM role ${r.name} (${p.purpose})`,
    dependsOn: [],
    timeoutMs: 300_000,
    async check() {
      const role = await iam.getRole(r.name);
      if (!role)
        return {
          satisfied: false,
          reason: "missing",
          needed: {
            exists: false,
            trust: true,
            policies: p.managedPolicies,
            inline: Object.fromEntries(Object.entries(p.inlinePolicies ?? {}).filter(([, d]) => d !== null)),
            tags: r.tags,
          },
        };
      const attached = new Set(await iam.attachedPolicies(r.name));
      const needed: Needed = {
        exists: true,
        trust: !trusts(role.AssumeRolePolicyDocument, p.service),
        policies: p.managedPolicies.filter((a) => !attached.has(a)),
        inline: await inlineToChange(iam, r.name, p.inlinePolicies ?? {}),
        tags: claimTags(r, tagRecord(role.Tags), env),
      };
      const value = { name: r.name, arn: role.Arn! };
      const changes =
        needed.policies.length + Object.keys(needed.inline).length + Object.keys(needed.tags).length;
      if (!needed.trust && changes === 0) return { satisfied: true, reason: "in place", value };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(_ctx, n) {
      let arn: string;
      if (!n.exists) {
        const role = await createOrAdopt(
          () =>
            iam.createRole({
              RoleName: r.name,
              AssumeRolePolicyDocument: trustPolicy(p.service),
              Description: `kubecontrol ${p.purpose} role of ${r.tags["kubecontrol:app"]}`,
              Tags: tagList(creationTags(r.tags, env.runId)),
            }),
          ownedFind(
            () => iam.getRole(r.name),
            (role) => tagRecord(role.Tags),
            r,
            env,
          ),
          ["EntityAlreadyExists", "EntityAlreadyExistsException"],
        );
        arn = role.Arn!;
      } else {
        arn = (await iam.getRole(r.name))!.Arn!;
        if (n.trust) await iam.updateAssumeRolePolicy(r.name, trustPolicy(p.service));
        if (Object.keys(n.tags).length) await iam.tagRole(r.name, tagList(n.tags));
      }
      // Attaching is idempotent: a policy attached twice is attached once.
      for (const policy of n.policies) await iam.attachPolicy(r.name, policy);
      for (const [name, document] of Object.entries(n.inline)) {
        if (document === null) await iam.deleteInlinePolicy(r.name, name);
        else await iam.putInlinePolicy(r.name, name, document);
      }
      return { name: r.name, arn };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.arn ?? r.name}`,
  });
}
