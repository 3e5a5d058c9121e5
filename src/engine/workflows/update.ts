import { KubecontrolError } from "../../errors.js";
import { preflightImageSource } from "../../images/ensure-image.js";
import { commitSubject, resolveVersion, userSourcesDir } from "../../images/version.js";
import { type Plan, planApp } from "../../plan/plan.js";
import { decideUpdate, type UpdateDecision, versionsToRead } from "../decide/update.js";
import { colourPlans, observeApp } from "../observe/live-state.js";
import { runningVersions } from "../observe/running-version.js";
import { preflightAws } from "../preflight/preflight.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import type { Keep } from "../steps/aws/retention.js";
import { dnsRecordOf } from "../steps/aws/switch-dns.js";
import type { ColourSource } from "./create-graph.js";
import { type DryRunFindings, planGraph, readOnly } from "./dry-run.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";
import { idleColourHint, keepOf, type UpdateOptions, updateSteps, updateSummary } from "./update-graph.js";

/** Everything `update` needs; the CLI builds it from flags, configuration and the environment. */
export interface UpdateInput extends RunContext, ColourSource, UpdateOptions {
  /** Any commit-ish of the app's source; default: its head. */
  version?: string | undefined;
  dryRun: boolean;
}

/** What update did (or, with dryRun, would do). */
export interface UpdateOutcome extends WorkflowOutcome {
  version: string;
  decision: UpdateDecision;
  /** The target colour's plan at the version. */
  plan: Plan;
  /** How long the old colour is kept at weight 0; undefined: this run removes it. */
  keep: Keep;
  dryRun?: DryRunFindings;
}

/**
 * `update` (blue/green): builds the idle colour at the version as create does, verifies it,
 * switches all of DNS to it in one change, waits for INSYNC and the drain, then tears the old
 * colour down (unless kept). Idempotent: when the live colour already runs the version, only
 * what is left (the switch, the old colour's teardown) is done. Throws coded errors: NOT_FOUND
 * (no live colour), LOCKED, PREFLIGHT_FAILED, VERIFY_FAILED, STEP_FAILED, CANCELLED.
 */
export async function updateApp(input: UpdateInput): Promise<UpdateOutcome> {
  // Without a DNS name there is nothing to keep a colour at weight 0 in: the old one goes.
  const i = dnsRecordOf(colourPlans(input.app).blue) ? input : { ...input, keepForMs: 0 };
  const commit = await resolveVersion(i.app, i.projectRoot, i.version, {
    mirrorDir: userSourcesDir(),
  });
  const first = await decide(i, commit);
  if (first.mode === "deploy") await preflightImageSource(i, commit);
  const plan = planApp({ app: i.app, colour: first.target, version: commit });

  if (i.dryRun) {
    return readOnly(async () => {
      // Read-only: no lease, no record; preflight, then the plan of every step, nothing applied.
      i.emit({ type: "log", at: Date.now(), level: "info", message: updateSummary(i, first, commit) });
      const deployerArn =
        first.mode === "deploy" ? (await preflightAws(plan, i.aws, i.app, i.emit)).deployerArn : "";
      await assertUpdateOwned(i, first, plan);
      const { report, findings } = await planGraph(updateSteps(i, first, commit, "dry-run", deployerArn), i);
      return {
        ...outcomeOf("dry-run", report),
        version: commit,
        decision: first,
        plan,
        keep: keepOf(i),
        dryRun: findings,
      };
    });
  }

  return recordedWorkflow(
    recordedRunOptions(i, {
      command: "update",
      version: commit,
      subject: await commitSubject(i.app, i.projectRoot, commit),
      colour: first.target,
      planHash: plan.hash,
      options: {
        keepOld: i.keepOld,
        drainMs: i.drainMs,
        ...(i.keepForMs ? { keepForMs: i.keepForMs } : {}),
        ...(i.adopt ? { adopt: true } : {}),
      },
    }),
    async (run) => {
      // Another run may have moved things while this one waited for the lease: look again.
      const d = await decide(i, commit);
      if (d.target !== first.target || d.mode !== first.mode)
        throw new KubecontrolError(
          "PRECONDITION",
          `${i.app.name} changed while this update waited for its lease (${first.live} was live, now ${d.live})`,
          { hint: "run the same update again: it starts from what is live now" },
        );
      i.emit({ type: "log", at: Date.now(), level: "info", message: updateSummary(i, d, commit) });
      // Preflight, and the ownership of what the update would touch (nothing is made or removed
      // while a resource with one of its names is not the app's): both read-only, so at once;
      // preflight's refusal is the one told when both refuse.
      const [pre, owned] = await Promise.allSettled([
        d.mode === "deploy" ? preflightAws(plan, i.aws, i.app, i.emit) : Promise.resolve({ deployerArn: "" }),
        assertUpdateOwned(i, d, plan),
      ]);
      if (pre.status === "rejected") throw pre.reason;
      if (owned.status === "rejected") throw owned.reason;
      const { deployerArn } = pre.value;
      const report = await run.runGraph(updateSteps(i, d, commit, run.runId, deployerArn), {
        concurrency: i.concurrency,
        hint:
          d.mode === "deploy"
            ? `fix the cause and run the same update again to continue; DNS moves only once ${d.target} is verified. ${idleColourHint(i.app.name, d.target, d.live)}`
            : `fix the cause and run the same update again to finish; ${d.target} serves ${i.app.name} at ${commit.slice(0, 12)}`,
      });
      return { ...outcomeOf(run.runId, report), version: commit, decision: d, plan, keep: keepOf(i) };
    },
  );
}

/**
 * The ownership of what the update would touch, before it touches anything: the new colour's
 * resources (and the app's) it makes or changes, and the old colour's it removes.
 */
async function assertUpdateOwned(i: UpdateInput, d: UpdateDecision, plan: Plan): Promise<void> {
  if (d.mode === "deploy")
    await assertPlanOwned(i.aws, plan, plan.aws, { adopt: i.adopt === true, action: "adopt or change" });
  if (!keepOf(i)) {
    const old = colourPlans(i.app)[d.old];
    await assertPlanOwned(
      i.aws,
      old,
      old.aws.filter((r) => r.scope === "colour"),
      { adopt: false, action: "delete" },
    );
  }
}

/** Reads what is live (read-only: the app's state, the versions the decision needs) and decides. */
async function decide(i: UpdateInput, commit: string): Promise<UpdateDecision> {
  const state = await observeApp(i.app, i.aws);
  const versions = await runningVersions(i, versionsToRead(state));
  return decideUpdate(state, versions, commit, i.app.deploy.dnsSteps);
}
