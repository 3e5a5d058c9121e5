import type { Aws } from "../../../aws/create-aws.js";
import type { AwsResource } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import type { Step } from "../../step.js";
import { ensureAccessEntryStep } from "./ensure-access-entry.js";
import { ensureAutoScalingGroupStep } from "./ensure-auto-scaling-group.js";
import { ensureClusterStep } from "./ensure-cluster.js";
import { ensureEcrRepositoryStep } from "./ensure-ecr-repository.js";
import { ensureIamRoleStep } from "./ensure-iam-role.js";
import { ensureInstanceProfileStep } from "./ensure-instance-profile.js";
import { ensureLaunchTemplateStep } from "./ensure-launch-template.js";
import { ensureListenerStep } from "./ensure-listener.js";
import { ensureLoadBalancerStep } from "./ensure-load-balancer.js";
import { ensureSecurityGroupStep } from "./ensure-security-group.js";
import { ensureSecurityGroupRulesStep } from "./ensure-security-group-rules.js";
import { ensureTargetGroupStep } from "./ensure-target-group.js";
import { findNetworkStep } from "./find-network.js";
import type { StackEnv } from "./stack-env.js";

function ensureSteps(r: AwsResource, env: StackEnv): Step[] {
  switch (r.kind) {
    case "iam-role":
      return [ensureIamRoleStep(r, env)];
    case "iam-instance-profile":
      return [ensureInstanceProfileStep(r, env)];
    case "security-group":
      return [ensureSecurityGroupStep(r, env), ensureSecurityGroupRulesStep(r, env)];
    case "eks-cluster":
      return [ensureClusterStep(r, env)];
    case "eks-access-entry":
      return [ensureAccessEntryStep(r, env)];
    case "launch-template":
      return [ensureLaunchTemplateStep(r, env)];
    case "auto-scaling-group":
      return [ensureAutoScalingGroupStep(r, env)];
    case "ecr-repository":
      return [ensureEcrRepositoryStep(r, env)];
    case "load-balancer":
      return [ensureLoadBalancerStep(r, env)];
    case "target-group":
      return [ensureTargetGroupStep(r, env)];
    case "listener":
      return [ensureListenerStep(r, env)];
    case "route53-record":
      // Applied only after verification, by shift-dns with an explicit weight.
      return [];
  }
}

/** Options for a colour's graphs. */
export interface StackOptions {
  pace?: StackEnv["pace"];
  /** Teardown: how long a security group waits for network interfaces to let go of it. */
  interfaceWaitMs?: number;
  /** Take over resources found by name without kubecontrol's tags (`--adopt`). */
  adopt?: boolean;
}

/**
 * The step graph that makes one colour's AWS stack, plus the app-scoped resources it needs.
 * Each step waits only for the steps whose results it uses, so independent resources (ECR,
 * IAM, target groups, security groups) go at once, as far as the runner's bound allows.
 */
export function colourStackSteps(plan: Plan, aws: Aws, runId: string, options: StackOptions = {}): Step[] {
  const env: StackEnv = {
    plan,
    aws,
    runId,
    ...(options.pace ? { pace: options.pace } : {}),
    ...(options.adopt ? { adopt: true } : {}),
  };
  return [findNetworkStep(aws, plan), ...plan.aws.flatMap((r) => ensureSteps(r, env))];
}
