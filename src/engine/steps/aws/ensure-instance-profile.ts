import type { InstanceProfile } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  resultOf,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What later steps need of an instance profile. */
export interface InstanceProfileRef {
  name: string;
  arn: string;
}

interface Needed {
  exists: boolean;
  addRole: boolean;
  removeRoles: string[];
  tags: Record<string, string>;
}

/** Ensures the node instance profile holding exactly the node role. */
export function ensureInstanceProfileStep(
  r: InstanceProfile,
  env: StackEnv,
): Step<Needed, InstanceProfileRef> {
  const { iam } = env.aws;
  return awsStep<Needed, InstanceProfileRef>({
    name: ensureName(r.id),
    description: `instance profile ${r.name}`,
    dependsOn: [ensureName(r.properties.role)],
    timeoutMs: 300_000,
    async check(ctx) {
      const role = resultOf(ctx, r.properties.role);
      const profile = await iam.getInstanceProfile(r.name);
      if (!profile)
        return {
          satisfied: false,
          reason: "missing",
          needed: { exists: false, addRole: true, removeRoles: [], tags: r.tags },
        };
      const roles = (profile.Roles ?? []).map((x) => x.RoleName!);
      const needed: Needed = {
        exists: true,
        addRole: !roles.includes(role.name),
        removeRoles: roles.filter((x) => x !== role.name),
        tags: claimTags(r, tagRecord(profile.Tags), env),
      };
      if (!needed.addRole && needed.removeRoles.length === 0 && Object.keys(needed.tags).length === 0)
        return { satisfied: true, reason: "in place", value: { name: r.name, arn: profile.Arn! } };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(ctx, n) {
      const role = resultOf(ctx, r.properties.role);
      const profile = n.exists
        ? (await iam.getInstanceProfile(r.name))!
        : await createOrAdopt(
            () => iam.createInstanceProfile(r.name, tagList(creationTags(r.tags, env.runId))),
            ownedFind(
              () => iam.getInstanceProfile(r.name),
              (x) => tagRecord(x.Tags),
              r,
              env,
            ),
            ["EntityAlreadyExists", "EntityAlreadyExistsException"],
          );
      if (n.exists && Object.keys(n.tags).length) await iam.tagInstanceProfile(r.name, tagList(n.tags));
      for (const other of n.removeRoles) await iam.removeRoleFromInstanceProfile(r.name, other);
      const roles = (profile.Roles ?? []).map((x) => x.RoleName);
      // A profile holds one role; after a lost answer the role may already be in.
      if (!roles.includes(role.name)) {
        try {
          await iam.addRoleToInstanceProfile(r.name, role.name);
        } catch (err) {
          const again = await iam.getInstanceProfile(r.name);
          if (!again?.Roles?.some((x) => x.RoleName === role.name)) throw err;
        }
      }
      return { name: r.name, arn: profile.Arn! };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.arn ?? r.name}`,
  });
}
