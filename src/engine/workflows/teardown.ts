import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { DnsRecord } from "../../plan/aws-types.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { runSteps } from "../runner.js";
import type { StackOptions } from "../steps/aws/colour-stack.js";
import { findColourRecord, zoneIdOf } from "../steps/aws/dns-record.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { teardownSteps } from "../steps/aws/teardown.js";
import { checksOnly, type DryRunFindings, dryRunEvents, dryRunFindings, readOnly } from "./dry-run.js";
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

// Names and tags do not depend on the version: any one plans the same resources to delete.
const ANY_VERSION = "teardown";

function planOf(app: ResolvedKubeApp, colour: Colour): Plan {
  return planApp({ app, colour, version: ANY_VERSION });
}

/** The weight DNS gives a colour (0 when it has no record). */
export async function colourWeight(aws: Aws, plan: Plan): Promise<number> {
  const r = plan.aws.find((x): x is DnsRecord => x.kind === "route53-record");
  if (!r) return 0;
  const zone = await aws.route53.findHostedZone(r.properties.zone);
  if (!zone) return 0;
  const set = await findColourRecord(aws, await zoneIdOf(aws, r), r);
  return set?.Weight ?? 0;
}

async function chooseColour(app: ResolvedKubeApp, aws: Aws): Promise<Colour> {
  const present: Colour[] = [];
  for (const c of COLOURS) if (await aws.eks.describeCluster(planOf(app, c).cluster)) present.push(c);
  if (present.length <= 1) return present[0] ?? "blue";
  for (const c of present) if ((await colourWeight(aws, planOf(app, c))) === 0) return c;
  throw new KubecontrolError("USAGE", `${app.name} has two live colours (blue and green)`, {
    hint: "name the one to remove with --colour",
  });
}

/**
 * `teardown`: removes one colour's stack (app-scoped resources stay). Refuses the colour DNS
 * points at unless forced. Leased and recorded like every command that changes an app.
 */
export async function teardownColour(
  i: TeardownInput,
): Promise<WorkflowOutcome & { colour: Colour; dryRun?: DryRunFindings; liveWeight?: number }> {
  const colour = i.colour ?? (await chooseColour(i.app, i.aws));
  const plan = planOf(i.app, colour);
  if (i.dryRun)
    return readOnly(async () => {
      const report = await runSteps(checksOnly(teardownSteps(plan, i.aws, "dry-run", i.stack ?? {})), {
        concurrency: i.concurrency,
        emit: dryRunEvents(i.emit),
        signal: i.signal,
      });
      if (report.cancelled) throw new KubecontrolError("CANCELLED", "interrupted: nothing was changed");
      const weight = await colourWeight(i.aws, plan);
      return { ...outcomeOf("dry-run", report), colour, dryRun: dryRunFindings(report), liveWeight: weight };
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
      const weight = await colourWeight(i.aws, plan);
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
