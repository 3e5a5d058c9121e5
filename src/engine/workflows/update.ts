import { KubecontrolError } from "../../errors.js";
import { preflightImageSource } from "../../images/ensure-image.js";
import { commitSubject, resolveVersion, userSourcesDir } from "../../images/version.js";
import { formatAge } from "../../io/format.js";
import { KubeApiError } from "../../kube/client.js";
import { connectCluster } from "../../kube/cluster-access.js";
import { APP_LABEL, progressDeadlineOf, VERSION_ANNOTATION } from "../../plan/kubernetes.js";
import { type Colour, other } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import { decideLiveColour, isSplit, liveDuringSplit, requireLiveColour } from "../decide/live-colour.js";
import { colourPlans, observeApp } from "../observe/live-state.js";
import { preflightAws } from "../preflight/preflight.js";
import type { Step } from "../step.js";
import { assertPlanOwned } from "../steps/aws/ownership-check.js";
import { judgeStepName, progressiveDnsSteps } from "../steps/aws/progressive-dns.js";
import { type Keep, RETENTION, retentionStep } from "../steps/aws/retention.js";
import { FIND_NETWORK } from "../steps/aws/stack-env.js";
import { DRAIN, dnsRecordOf, drainStep, SWITCH_DNS, switchDnsStep } from "../steps/aws/switch-dns.js";
import { teardownSteps } from "../steps/aws/teardown.js";
import { type ColourSource, colourSteps } from "./create-graph.js";
import { type DryRunFindings, planGraph, readOnly } from "./dry-run.js";
import { colourJudgement } from "./judge-colour.js";
import { outcomeOf, type WorkflowOutcome } from "./outcome.js";
import { type RunContext, recordedRunOptions, recordedWorkflow } from "./recorded-run.js";

/** Everything `update` needs; the CLI builds it from flags, configuration and the environment. */
export interface UpdateInput extends RunContext, ColourSource {
  /** Any commit-ish of the app's source; default: its head. */
  version?: string | undefined;
  dryRun: boolean;
  /** Leave the old colour in place (weight 0) with no expiry instead of tearing it down. */
  keepOld: boolean;
  /**
   * Keep the old colour at weight 0 this long after the switch (the spec's deploy.keepOldColourFor)
   * and end the run: `gc` removes it once the time has passed. 0: drain, then tear it down now.
   */
  keepForMs: number;
  /** How long to wait after the switch before the old colour is torn down (when it is not kept). */
  drainMs: number;
  /**
   * How long resolvers may keep an old answer (config resolverCache, the record's TTL unless
   * set): waited at each of deploy.dnsSteps before the new colour is judged again.
   */
  shiftWindowMs: number;
}

/** How long the old colour stays after the switch; undefined when this run tears it down. */
export function keepOf(i: Pick<UpdateInput, "keepOld" | "keepForMs">): Keep {
  if (i.keepOld) return { forever: true };
  return i.keepForMs > 0 ? { forMs: i.keepForMs } : undefined;
}

/**
 * What update found before acting. `deploy`: the live colour runs another version, so the other
 * colour is built at the new one, verified, and DNS switched to it. `finish`: the live colour
 * already runs the version (a finished or interrupted earlier update), so only what is left is done.
 */
export interface UpdateDecision {
  mode: "deploy" | "finish";
  /** The colour DNS points at now. */
  live: Colour;
  /** Its version, when it could be read from its cluster. */
  liveVersion: string | undefined;
  /** The colour that ends up running the version with all of DNS. */
  target: Colour;
  /** The other one: torn down unless kept. */
  old: Colour;
  /**
   * The target's shares of the traffic before all of it (deploy.dnsSteps below 100), each
   * followed by a judgement; empty for a switch in one change (no steps in the spec, or an old
   * colour without a cluster to go back to).
   */
  dnsSteps: number[];
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

/** How to look at, and remove, a colour an update left behind. */
export function idleColourHint(app: string, colour: Colour, live: Colour): string {
  return `${live} still serves ${app}; inspect ${colour} with \`kubecontrol kubeconfig ${app} --colour ${colour}\`, remove it with \`kubecontrol teardown ${app} --colour ${colour}\`, or run the update again`;
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
      announce(i, first, commit);
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
      announce(i, d, commit);
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

/** One line saying what this update is about to do, and why. */
function announce(i: UpdateInput, d: UpdateDecision, commit: string): void {
  const v = (s: string | undefined) => (s ? s.slice(0, 12) : "an unknown version");
  const keep = keepOf(i);
  const rest = !keep
    ? `, then ${d.old} removed`
    : "forever" in keep
      ? `, ${d.old} kept`
      : `, ${d.old} kept for ${formatAge(keep.forMs)} (then gc removes it)`;
  const dns = d.dnsSteps.length
    ? `DNS in steps (${[...d.dnsSteps, 100].join("%, ")}%, each judged)`
    : "all of DNS";
  const message =
    d.mode === "deploy"
      ? `${d.live} is live at ${v(d.liveVersion)}: ${d.target} is built at ${v(commit)}, verified, and given ${dns}${rest}`
      : `${d.live} is live and already at ${v(commit)}: finishing (${dns} on ${d.target}${rest})`;
  i.emit({ type: "log", at: Date.now(), level: "info", message });
}

/**
 * The step graph for a decision: (deploy) the target colour as create builds it, without its
 * DNS step; the switch, after every one of those steps; the drain; the old colour's teardown,
 * each of its steps after the drain.
 */
export function updateSteps(
  i: ColourSource &
    Pick<UpdateInput, "keepOld" | "keepForMs" | "drainMs"> &
    Partial<Pick<UpdateInput, "shiftWindowMs">>,
  d: UpdateDecision,
  commit: string,
  runId: string,
  deployerArn: string,
): Step[] {
  const targetPlan = planApp({ app: i.app, colour: d.target, version: commit });
  // Names and tags do not depend on the version: the old colour's plan is only what to remove.
  const oldPlan = colourPlans(i.app)[d.old];
  const record = dnsRecordOf(targetPlan);
  const steps: Step[] = [];
  if (d.mode === "deploy") {
    // The target colour as create makes it, without its DNS step: DNS moves in the switch below.
    const own = record ? `shift-dns/${record.properties.setIdentifier}` : undefined;
    const create = colourSteps(i, {
      plan: targetPlan,
      commit,
      runId,
      deployerArn,
      dnsWeight: 0,
      teardownHint: idleColourHint(i.app.name, d.target, d.live),
    }).filter((s) => s.name !== own);
    steps.push(...create);
  }
  // DNS moves only once everything of the target colour succeeded (verification included).
  const built = steps.map((s) => s.name);
  let beforeTeardown = built;
  if (record) {
    // deploy.dnsSteps: the target's shares before all of it, each judged again after a wait.
    const shifts = d.dnsSteps.length
      ? progressiveDnsSteps({
          to: targetPlan,
          from: oldPlan,
          aws: i.aws,
          percents: d.dnsSteps,
          windowMs: i.shiftWindowMs ?? 0,
          judge: colourJudgement(i, targetPlan, idleColourHint(i.app.name, d.target, d.old)),
          judgeTimeoutMs: 3 * progressDeadlineOf(i.app) * 1000,
          hint: `all of DNS is back on ${d.old}; ${idleColourHint(i.app.name, d.target, d.old)}`,
          dependsOn: built,
          ...(i.stack?.pace ? { pace: i.stack.pace } : {}),
        })
      : [];
    steps.push(...shifts);
    const lastJudged = d.dnsSteps.filter((p) => p > 0 && p < 100).at(-1);
    steps.push(
      switchDnsStep({
        to: targetPlan,
        from: oldPlan,
        aws: i.aws,
        dependsOn: lastJudged === undefined ? built : [judgeStepName(lastJudged)],
        ...(i.stack?.pace ? { pace: i.stack.pace } : {}),
      }),
    );
    // The colour that serves carries no retention mark; the one kept carries when it goes.
    const keep = keepOf(i);
    // A deploy retires the colour that had weight as it began: a mark it carries is an older one.
    steps.push(
      retentionStep({
        live: targetPlan,
        kept: oldPlan,
        keep,
        aws: i.aws,
        dependsOn: [SWITCH_DNS],
        retiring: d.mode === "deploy" && d.live === d.old,
      }),
    );
    if (keep) return steps;
    steps.push(drainStep({ old: oldPlan, aws: i.aws, drainMs: i.drainMs, dependsOn: [RETENTION] }));
    beforeTeardown = [DRAIN];
  } else if (i.keepOld) return steps;
  const names = new Set(steps.map((s) => s.name));
  for (const s of teardownSteps(oldPlan, i.aws, runId, i.stack ?? {})) {
    // The network is the app's, not the colour's: one step finds it for both graphs.
    if (s.name === FIND_NETWORK && names.has(FIND_NETWORK)) continue;
    steps.push({ ...s, dependsOn: [...(s.dependsOn ?? []), ...beforeTeardown] });
  }
  return steps;
}

/**
 * Reads what is live (read-only) and decides: the live colour (decideLiveColour: the larger
 * weight, so an interrupted switch is finished; a colour DNS points at whose cluster is gone is
 * replaced), and the version it runs.
 */
export async function decide(
  i: Pick<UpdateInput, "app" | "aws" | "awsEndpoint" | "emit" | "requestTimeoutMs">,
  commit: string,
): Promise<UpdateDecision> {
  const plans = colourPlans(i.app);
  const state = await observeApp(i.app, i.aws);
  let observed = decideLiveColour(state);
  // A progressive switch stopped part-way: the colour that runs the version is where traffic
  // goes, whatever the weights are now (50/50 included).
  let versions: Record<Colour, string | undefined> | undefined;
  if (isSplit(state)) {
    const [blue, green] = await Promise.all([runningVersion(i, plans.blue), runningVersion(i, plans.green)]);
    versions = { blue, green };
    observed = liveDuringSplit(i.app.name, state, observed, versions, commit);
  }
  const { colour: live } = requireLiveColour(i.app.name, observed, {
    command: "update",
    shifting: true,
    clusterMissing: true,
  });
  const liveVersion = versions ? versions[live] : await runningVersion(i, plans[live]);
  const mode: UpdateDecision["mode"] = liveVersion === commit ? "finish" : "deploy";
  const target = mode === "finish" ? live : other(live);
  const old = other(target);
  // Steps need a colour to go back to: one whose cluster stands and that has a record.
  const canStep = state.colours[old].cluster !== undefined && state.colours[old].record !== undefined;
  const dnsSteps = canStep ? (i.app.deploy.dnsSteps ?? []).filter((p) => p > 0 && p < 100) : [];
  return { mode, live, liveVersion, target, old, dnsSteps };
}

/**
 * The version a colour runs: the `kubecontrol.io/version` annotation its app's Deployments carry
 * (set by create and update, kept current by rollouts). Undefined when the colour has no cluster
 * or no workloads, when they disagree (a rollout stopped half-way), or when the caller may not
 * read the cluster (then the update builds the other colour, which reaches the same end).
 */
export async function runningVersion(
  i: Pick<UpdateInput, "app" | "aws" | "awsEndpoint" | "emit" | "requestTimeoutMs">,
  plan: Plan,
): Promise<string | undefined> {
  const cluster = await i.aws.eks.describeCluster(plan.cluster);
  if (!cluster?.endpoint || !cluster.certificateAuthority?.data) return undefined;
  const client = await connectCluster({
    clusterName: plan.cluster,
    region: plan.region,
    endpoint: {
      name: plan.cluster,
      endpoint: cluster.endpoint,
      certificateAuthority: cluster.certificateAuthority.data,
    },
    ...(i.awsEndpoint ? { awsEndpoint: i.awsEndpoint } : {}),
    requestTimeoutMs: i.requestTimeoutMs,
  });
  try {
    const list = await client.request<{ items: Deployment[] }>(
      "GET",
      `/apis/apps/v1/namespaces/${encodeURIComponent(i.app.name)}/deployments`,
      { query: { labelSelector: `${APP_LABEL}=${i.app.name}` }, signal: AbortSignal.timeout(60_000) },
    );
    // The annotation, and the commit in the tag of every container running the app's image
    // (`<repositoryUri>:<commit>@sha256:…`), must all agree: a rollout stopped between patching
    // images and recording the version is not at either version.
    const versions = new Set<string>();
    const appImage = `/${i.app.image.repository}:`;
    for (const d of list.items) {
      const annotated = d.metadata?.annotations?.[VERSION_ANNOTATION];
      if (annotated) versions.add(annotated);
      for (const c of d.spec?.template?.spec?.containers ?? []) {
        const at = c.image?.indexOf(appImage) ?? -1;
        if (at >= 0) versions.add(c.image!.slice(at + appImage.length).split("@")[0]!);
      }
    }
    return versions.size === 1 ? [...versions][0] : undefined;
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
      i.emit({
        type: "log",
        at: Date.now(),
        level: "warn",
        message: `cannot read the version ${plan.colour} runs (${err.status} from cluster ${plan.cluster}): updating as if it ran another`,
      });
      return undefined;
    }
    throw new KubecontrolError(
      "KUBE",
      `cannot read the version ${plan.colour} runs from cluster ${plan.cluster}: ${(err as Error).message}`,
      {
        cause: err,
        retryable: true,
        hint: "run the update again once the cluster answers",
      },
    );
  } finally {
    client.close();
  }
}

interface Deployment {
  metadata?: { annotations?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}
