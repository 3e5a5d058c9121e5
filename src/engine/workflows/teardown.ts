import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { Colour } from "../../plan/names.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { colourToTearDown } from "../decide/live-colour.js";
import { type AppState, colourPlans, observeApp } from "../observe/live-state.js";
import type { StackOptions } from "../steps/aws/colour-stack.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { teardownSteps } from "../steps/aws/teardown.js";
import { type DryRunFindings, planGraph, readOnly } from "./dry-run.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** Everything `teardown` needs. */
export interface TeardownInput extends RunContext {
  app: ResolvedKubeApp;
  /** Default: the one colour that has a cluster (the idle one when both have). */
  colour?: Colour | undefined;
  /** Tear down the colour DNS points at. */
  force: boolean;
  /** Checks only: what would be deleted; no lease, no record, nothing changed. */
  dryRun?: boolean;
  aws: Aws;
  stack?: StackOptions;
}

/** The weight DNS gives the colour now (0 without a record). */
function weightIn(state: AppState, colour: Colour): number {
  return state.colours[colour].record?.weight ?? 0;
}

/**
 * `teardown`: removes one colour's stack (app-scoped resources stay). Refuses the colour DNS
 * points at unless forced. Leased and recorded like every command that changes an app.
 */
export async function teardownColour(
  i: TeardownInput,
): Promise<WorkflowOutcome & { colour: Colour; dryRun?: DryRunFindings; liveWeight?: number }> {
  const seen = await observeApp(i.app, i.aws);
  const colour = i.colour ?? colourToTearDown(i.app.name, seen);
  const plan = colourPlans(i.app)[colour];
  if (i.dryRun)
    return readOnly(async () => {
      const { report, findings } = await planGraph(teardownSteps(plan, i.aws, "dry-run", i.stack ?? {}), i);
      return {
        ...outcomeOf("dry-run", report),
        colour,
        dryRun: findings,
        liveWeight: weightIn(seen, colour),
      };
    });
  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "teardown",
      version: null,
      colour,
      planHash: plan.hash,
      options: { force: i.force },
    }),
    async (run) => {
      // Read again now the lease is held: another run may have moved DNS meanwhile.
      const weight = weightIn(await observeApp(i.app, i.aws), colour);
      if (weight > 0 && !i.force)
        throw new KubecontrolError(
          "PRECONDITION",
          `DNS points at ${i.app.name}'s ${colour} colour (weight ${weight})`,
          {
            hint: `move traffic away first, or pass --force to take the app offline: kubecontrol teardown ${i.app.name} --colour ${colour} --force`,
          },
        );
      // Nothing is removed while a resource with one of the colour's names is not the app's.
      await assertPlanOwned(
        i.aws,
        plan,
        plan.aws.filter((r) => r.scope === "colour"),
        { adopt: false, action: "delete" },
      );
      const report = await run.runGraph(teardownSteps(plan, i.aws, run.runId, i.stack ?? {}), {
        concurrency: i.concurrency,
        hint: "run the same teardown again to finish",
      });
      return { ...outcomeOf(run.runId, report), colour };
    },
  );
}
