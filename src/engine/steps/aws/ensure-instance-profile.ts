import type { InstanceProfile as AwsProfile } from "@aws-sdk/client-iam";
import type { InstanceProfile } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { ensureName, resultOf, type StackEnv, tagList, tagRecord } from "./stack-env.js";

/** What later steps need of an instance profile. */
export interface InstanceProfileRef {
  name: string;
  arn: string;
}

interface Changes {
  addRole: boolean;
  removeRoles: string[];
}

const roleNames = (profile: AwsProfile) => (profile.Roles ?? []).map((x) => x.RoleName!);

/** Ensures the node instance profile holding exactly the node role. */
export function ensureInstanceProfileStep(
  r: InstanceProfile,
  env: StackEnv,
): Step<EnsureNeeded<AwsProfile, Changes>, InstanceProfileRef> {
  const { iam } = env.aws;
  return ensureStep<AwsProfile, Changes, InstanceProfileRef>({
    r,
    env,
    description: `instance profile ${r.name}`,
    dependsOn: [ensureName(r.properties.role)],
    timeoutMs: 300_000,
    find: () => iam.getInstanceProfile(r.name),
    tagsOf: (profile) => tagRecord(profile.Tags),
    diff(ctx, profile) {
      const role = resultOf(ctx, r.properties.role);
      const roles = profile ? roleNames(profile) : [];
      return { addRole: !roles.includes(role.name), removeRoles: roles.filter((x) => x !== role.name) };
    },
    create: (_ctx, tags) => iam.createInstanceProfile(r.name, tagList(tags)),
    alreadyExists: ["EntityAlreadyExists", "EntityAlreadyExistsException"],
    tag: (_ctx, _profile, tags) => iam.tagInstanceProfile(r.name, tagList(tags)),
    async change(ctx, profile, d) {
      const role = resultOf(ctx, r.properties.role);
      for (const other of d.removeRoles) await iam.removeRoleFromInstanceProfile(r.name, other);
      // A profile holds one role; after a lost answer (or in one adopted) the role may already be in.
      if (!d.addRole || roleNames(profile).includes(role.name)) return;
      try {
        await iam.addRoleToInstanceProfile(r.name, role.name);
      } catch (err) {
        const again = await iam.getInstanceProfile(r.name);
        if (!again?.Roles?.some((x) => x.RoleName === role.name)) throw err;
      }
    },
    ref: (profile) => ({ name: r.name, arn: profile.Arn! }),
    summary: (ref) => ref.arn,
  });
}
