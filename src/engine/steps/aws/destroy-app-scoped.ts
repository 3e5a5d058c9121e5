import type { Aws } from "../../../aws/create-aws.js";
import { hasCode, orAbsent } from "../../../aws/errors.js";
import type { CodeBuildApi } from "../../../images/codebuild-api.js";
import { codeBuildProjectName } from "../../../images/codebuild-builder.js";
import { TAG } from "../../../plan/aws.js";
import type { EcrRepository, InstanceProfile } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { deleteEcrRepositoryStep } from "./delete-ecr-repository.js";
import { deleteInstanceProfileStep } from "./delete-instance-profile.js";
import { deletionStep } from "./deletion-step.js";
import { deleteName, type StackEnv, tagRecord } from "./stack-env.js";

/**
 * App-scoped resources outside the plan that `destroy` removes too: what is tagged
 * `kubecontrol:app=<app>` among ECR repositories, IAM roles and instance profiles named
 * `kc-<app>-…` (a repository or role a former spec named, the CodeBuild service role when it was
 * made for the app), and the app's CodeBuild project (made by the CodeBuild image builder).
 */
export interface AppScopedExtra {
  kind: "ecr-repository" | "iam-role" | "iam-instance-profile" | "codebuild-project";
  name: string;
  /** Its ARN, when AWS gave one. */
  arn: string | undefined;
}

/** Whether the tags say the resource belongs to the app. */
function taggedFor(app: string, tags: Record<string, string>): boolean {
  return tags[TAG.app] === app;
}

/**
 * Finds the app-scoped resources tagged for the app that the plan does not name. Read-only. The
 * names of IAM resources an app makes start with `kc-<app>-` (app names are at most 40
 * characters, so those names are never shortened); the tag decides, so `kc-hello-world-…` of the
 * app hello-world is never taken for hello's.
 */
export async function findAppScopedExtras(
  aws: Aws,
  codebuild: CodeBuildApi,
  plan: Plan,
): Promise<AppScopedExtra[]> {
  const app = plan.app;
  const planned = new Set(plan.aws.map((r) => `${r.kind}:${r.name}`));
  const prefix = `kc-${app}-`;
  const found: AppScopedExtra[] = [];

  const [repos, roles, profiles, project] = await Promise.all([
    aws.ecr.repositories(),
    aws.iam.roleNames(prefix),
    aws.iam.instanceProfileNames(prefix),
    codebuild.getProject(codeBuildProjectName(app)),
  ]);
  for (const repo of repos) {
    if (planned.has(`ecr-repository:${repo.repositoryName}`)) continue;
    const tags = await orAbsent(
      () => aws.ecr.listTags(repo.repositoryArn!, `repository ${repo.repositoryName}`),
      "RepositoryNotFoundException",
    );
    if (tags && taggedFor(app, tagRecord(tags)))
      found.push({ kind: "ecr-repository", name: repo.repositoryName!, arn: repo.repositoryArn });
  }
  for (const name of roles) {
    if (planned.has(`iam-role:${name}`)) continue;
    const role = await aws.iam.getRole(name);
    if (role && taggedFor(app, tagRecord(role.Tags))) found.push({ kind: "iam-role", name, arn: role.Arn });
  }
  for (const name of profiles) {
    if (planned.has(`iam-instance-profile:${name}`)) continue;
    const profile = await aws.iam.getInstanceProfile(name);
    if (profile && taggedFor(app, tagRecord(profile.Tags)))
      found.push({ kind: "iam-instance-profile", name, arn: profile.Arn });
  }
  if (project && taggedFor(app, Object.fromEntries((project.tags ?? []).map((t) => [t.key, t.value]))))
    found.push({ kind: "codebuild-project", name: project.name!, arn: project.arn });
  return found;
}

/** The step that deletes an app-scoped resource found outside the plan. */
export function extraStepName(e: AppScopedExtra): string {
  return deleteName(`orphan-${e.kind}/${e.name}`);
}

/**
 * Steps that delete what `findAppScopedExtras` found; each looks again first, so a re-run
 * after a partial destroy finishes it. Roles leave their instance profiles and lose their inline
 * policies first; profiles give up their roles.
 */
export function appScopedExtraSteps(
  aws: Aws,
  codebuild: CodeBuildApi,
  extras: AppScopedExtra[],
  env: StackEnv,
): Step[] {
  return extras.map((e) => extraStep(aws, codebuild, e, env));
}

function extraStep(aws: Aws, codebuild: CodeBuildApi, e: AppScopedExtra, env: StackEnv): Step {
  const id = `orphan-${e.kind}/${e.name}`;
  // The plan's delete steps read only the id and the name of the resource they are given.
  switch (e.kind) {
    case "ecr-repository":
      return deleteEcrRepositoryStep(
        {
          kind: e.kind,
          id,
          name: e.name,
          scope: "app",
          tags: { [TAG.app]: env.plan.app },
          dependsOn: [],
        } as unknown as EcrRepository,
        env,
      );
    case "iam-instance-profile":
      return deleteInstanceProfileStep(
        {
          kind: e.kind,
          id,
          name: e.name,
          scope: "app",
          tags: { [TAG.app]: env.plan.app },
          dependsOn: [],
        } as unknown as InstanceProfile,
        env,
      );
    case "iam-role":
      return deletionStep({
        id,
        description: `IAM role ${e.name}`,
        env,
        find: () => aws.iam.getRole(e.name),
        owner: { want: { app: env.plan.app }, tags: async (role) => tagRecord(role.Tags) },
        async remove() {
          const absent = (err: unknown) => {
            if (!hasCode(err, "NoSuchEntity", "NoSuchEntityException")) throw err;
          };
          for (const profile of await aws.iam.profilesOfRole(e.name))
            await aws.iam.removeRoleFromInstanceProfile(profile, e.name).catch(absent);
          for (const policy of await aws.iam.inlinePolicies(e.name))
            await aws.iam.deleteInlinePolicy(e.name, policy).catch(absent);
          for (const policy of await aws.iam.attachedPolicies(e.name))
            await aws.iam.detachPolicy(e.name, policy).catch(absent);
          await aws.iam.deleteRole(e.name).catch(absent);
        },
        transient: (err) => hasCode(err, "DeleteConflict", "DeleteConflictException"),
      });
    case "codebuild-project":
      return deletionStep({
        id,
        description: `CodeBuild project ${e.name}`,
        env,
        find: () => codebuild.getProject(e.name),
        owner: {
          want: { app: env.plan.app },
          tags: async (project) =>
            Object.fromEntries((project.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""])),
        },
        async remove() {
          await codebuild.deleteProject(e.name).catch((err: unknown) => {
            if (!hasCode(err, "ResourceNotFoundException")) throw err;
          });
        },
      });
  }
}
