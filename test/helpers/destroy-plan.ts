import type { Aws } from "../../src/aws/create-aws.js";
import type { Step } from "../../src/engine/step.js";
import {
  appScopedDeletionSteps,
  type TeardownOptions,
  teardownSteps,
} from "../../src/engine/steps/aws/teardown.js";
import type { Plan } from "../../src/plan/plan.js";

/**
 * Everything one plan made, removed as `destroy` removes it for one colour: the colour's teardown,
 * then the app-scoped resources (ECR repository, IAM roles) once all of it is gone.
 */
export function destroyPlanSteps(plan: Plan, aws: Aws, runId: string, options: TeardownOptions = {}): Step[] {
  const colour = teardownSteps(plan, aws, runId, options);
  const after = colour.map((s) => s.name);
  const app = appScopedDeletionSteps(plan, aws, runId, options).map((s) => ({
    ...s,
    dependsOn: [...after, ...(s.dependsOn ?? [])],
  }));
  return [...colour, ...app];
}
