import type { Aws } from "../../../aws/create-aws.js";
import type { AwsResource } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { releaseLiveImageStep } from "../images/keep-live-image.js";
import type { StackOptions } from "./colour-stack.js";
import { deleteAccessEntryStep } from "./delete-access-entry.js";
import { deleteAutoScalingGroupStep } from "./delete-auto-scaling-group.js";
import { deleteClusterStep } from "./delete-cluster.js";
import { deleteDnsRecordStep } from "./delete-dns-record.js";
import { deleteEcrRepositoryStep } from "./delete-ecr-repository.js";
import { deleteIamRoleStep } from "./delete-iam-role.js";
import { deleteInstanceProfileStep } from "./delete-instance-profile.js";
import { deleteLaunchTemplateStep } from "./delete-launch-template.js";
import { deleteListenerStep } from "./delete-listener.js";
import { deleteLoadBalancerStep } from "./delete-load-balancer.js";
import {
  deleteSecurityGroupStep,
  revokeRulesStepName,
  revokeSecurityGroupRulesStep,
} from "./delete-security-group.js";
import { deleteTargetGroupStep } from "./delete-target-group.js";
import { findNetworkStep } from "./find-network.js";
import { deleteName, FIND_NETWORK, type StackEnv } from "./stack-env.js";

function deleteStep(r: AwsResource, env: StackEnv): Step {
  switch (r.kind) {
    case "iam-role":
      return deleteIamRoleStep(r, env);
    case "iam-instance-profile":
      return deleteInstanceProfileStep(r, env);
    case "security-group":
      return deleteSecurityGroupStep(r, env);
    case "eks-cluster":
      return deleteClusterStep(r, env);
    case "eks-access-entry":
      return deleteAccessEntryStep(r, env);
    case "launch-template":
      return deleteLaunchTemplateStep(r, env);
    case "auto-scaling-group":
      return deleteAutoScalingGroupStep(r, env);
    case "ecr-repository":
      return deleteEcrRepositoryStep(r, env);
    case "load-balancer":
      return deleteLoadBalancerStep(r, env);
    case "target-group":
      return deleteTargetGroupStep(r, env);
    case "listener":
      return deleteListenerStep(r, env);
    case "route53-record":
      return deleteDnsRecordStep(r, env);
  }
}

/** Options for a teardown. */
export type TeardownOptions = StackOptions;

/**
 * The step graph that tears one colour down on its own (`teardown`, `gc`): the network found
 * once, then {@link colourDeletionSteps}.
 */
export function teardownSteps(plan: Plan, aws: Aws, runId: string, options: TeardownOptions = {}): Step[] {
  return [findNetworkStep(aws, plan), ...colourDeletionSteps(plan, aws, runId, options)];
}

/**
 * The steps that remove one colour's resources, for a graph that finds the network itself
 * (`find-network`: update's, which builds the other colour, and destroy's): each resource is
 * deleted after everything that depends on it (the reverse of the plan's order), the colour's
 * weighted record first, then the colour's live-image tag.
 */
export function colourDeletionSteps(
  plan: Plan,
  aws: Aws,
  runId: string,
  options: TeardownOptions = {},
): Step[] {
  const steps = deletionSteps(plan, "colour", stackEnv(plan, aws, runId, options));
  const repository = plan.aws.find((r) => r.kind === "ecr-repository");
  const cluster = plan.aws.find((r) => r.kind === "eks-cluster");
  if (repository)
    steps.push(
      releaseLiveImageStep({
        aws,
        repository: repository.name,
        colour: plan.colour,
        dependsOn: cluster ? [deleteName(cluster.id)] : [],
      }),
    );
  return steps;
}

/** The steps that remove the app-scoped resources (ECR repository, IAM roles): `destroy` only. */
export function appScopedDeletionSteps(
  plan: Plan,
  aws: Aws,
  runId: string,
  options: TeardownOptions = {},
): Step[] {
  return deletionSteps(plan, "app", stackEnv(plan, aws, runId, options));
}

function stackEnv(plan: Plan, aws: Aws, runId: string, options: TeardownOptions): StackEnv {
  return {
    plan,
    aws,
    runId,
    ...(options.pace ? { pace: options.pace } : {}),
    ...(options.interfaceWaitMs !== undefined ? { interfaceWaitMs: options.interfaceWaitMs } : {}),
  };
}

/** Deletes of the plan's resources of one scope, each after its dependants of that scope. */
function deletionSteps(plan: Plan, scope: AwsResource["scope"], env: StackEnv): Step[] {
  const doomed = plan.aws.filter((r) => r.scope === scope);
  const dependants = (id: string) =>
    doomed.filter((x) => x.dependsOn.includes(id)).map((x) => deleteName(x.id));
  const groups = doomed.filter((r) => r.kind === "security-group");
  const steps: Step[] = [];
  for (const r of doomed) {
    const step = deleteStep(r, env);
    const after = dependants(r.id);
    if (r.kind === "security-group") {
      const revoke = revokeSecurityGroupRulesStep(r, env);
      steps.push({ ...revoke, dependsOn: [FIND_NETWORK, ...after] });
      // Groups refer to each other: every cross-reference must be gone before any group goes.
      steps.push({
        ...step,
        dependsOn: [FIND_NETWORK, ...after, ...groups.map((g) => revokeRulesStepName(g.id))],
      });
    } else {
      steps.push({ ...step, dependsOn: after });
    }
  }
  return steps;
}
