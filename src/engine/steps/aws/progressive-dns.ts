import type { Change, ResourceRecordSet } from "@aws-sdk/client-route-53";
import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { DnsRecord } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import { sleep, waitUntil } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";
import { assertOwnRecordSet, rrType, zoneIdOf } from "./dns-record.js";
import { desiredSet, same } from "./shift-dns.js";
import { awsStep, pollPace, retryEventual, type StackEnv } from "./stack-env.js";
import { dnsRecordOf } from "./switch-dns.js";

/** The step that gives the new colour `percent` of the traffic (the old colour the rest, one change). */
export const shiftStepName = (percent: number) => `shift-dns/${percent}%`;
/** The step that waits out resolver caches at `percent` and judges the new colour again. */
export const judgeStepName = (percent: number) => `verify-shift/${percent}%`;

export interface ProgressiveDnsOptions {
  /** The colour traffic moves to: its plan (record and load balancer). */
  to: Plan;
  /** The colour traffic moves from, which keeps the rest. */
  from: Plan;
  aws: Aws;
  /** The new colour's shares before all of it: ascending percentages between 0 and 100. */
  percents: number[];
  /** How long resolvers may keep an old answer (config resolverCache): waited after each shift. */
  windowMs: number;
  /** Judges the new colour as verification does; throws VERIFY_FAILED when it does not pass. */
  judge(ctx: StepContext): Promise<void>;
  /** How long one judgement may take (workloads, then targets, then checks). */
  judgeTimeoutMs: number;
  /** What to say after a failed judgement put all of DNS back (how to inspect, remove, retry). */
  hint: string;
  pace?: StackEnv["pace"];
  dependsOn: string[];
}

/**
 * Moves the app's weighted record set to the new colour in steps (`deploy.dnsSteps`), each step
 * a pair: `shift-dns/<p>%` gives the new colour p and the old one 100 − p in one change batch
 * (never both at 0) and waits until it is INSYNC; `verify-shift/<p>%` waits `windowMs` for
 * resolvers to pick the change up and judges the new colour again. A failed judgement puts all
 * of the weight back on the old colour in one change (new 0, old 100) and is VERIFY_FAILED (exit
 * 7). Each step reads the weights first, so a run killed part-way leaves them as they were and a
 * re-run goes on from there: a shift the weights are already past is satisfied, and the
 * judgement at the share DNS gives now is made again. The switch to 100 (SWITCH_DNS) follows the
 * last pair.
 */
export function progressiveDnsSteps(o: ProgressiveDnsOptions): Step[] {
  const to = dnsRecordOf(o.to);
  const from = dnsRecordOf(o.from);
  if (!to || !from)
    throw new KubecontrolError("INTERNAL", `${o.to.app} has no DNS record: there is nothing to shift`);
  const weights = recordWeights(o.aws, to, from);
  const steps: Step[] = [];
  let after = o.dependsOn;
  for (const p of o.percents.filter((x) => x > 0 && x < 100)) {
    const shift = shiftStep(o, weights, p, after);
    const judge = judgeStep(o, weights, p, [shift.name]);
    steps.push(shift, judge);
    after = [judge.name];
  }
  return steps;
}

/** The two colours' members of the weighted set, read now. */
interface Weights {
  zoneId: string;
  to: ResourceRecordSet | undefined;
  from: ResourceRecordSet | undefined;
  toId: string;
  fromId: string;
  describe(): string;
}

function recordWeights(aws: Aws, to: DnsRecord, from: DnsRecord): () => Promise<Weights> {
  const toId = to.properties.setIdentifier;
  const fromId = from.properties.setIdentifier;
  return async () => {
    const zoneId = await zoneIdOf(aws, to);
    const sets = await aws.route53.recordSets(zoneId, to.properties.record, rrType(to));
    assertOwnRecordSet(sets, to);
    const a = sets.find((s) => s.SetIdentifier === toId);
    const b = sets.find((s) => s.SetIdentifier === fromId);
    const w = (s: ResourceRecordSet | undefined) => (s ? `weight ${s.Weight}` : "missing");
    return { zoneId, to: a, from: b, toId, fromId, describe: () => `${toId} ${w(a)}, ${fromId} ${w(b)}` };
  };
}

/** Submits a change batch, retrying while an earlier change of the zone is being applied; waits for INSYNC. */
async function changeInOneBatch(
  o: Pick<ProgressiveDnsOptions, "aws" | "pace">,
  ctx: StepContext,
  zoneId: string,
  changes: Change[],
  what: string,
): Promise<void> {
  const id = await retryEventual(
    ctx,
    what,
    () => o.aws.route53.changeRecordSets(zoneId, changes, what),
    (err) => hasCode(err, "PriorRequestNotComplete"),
  );
  ctx.waiting(`${what} to reach every Route 53 server`);
  await waitUntil(
    async () =>
      (await o.aws.route53.changeInSync(id))
        ? { done: true, value: true }
        : { done: false, state: "PENDING" },
    { what: `Route 53 change ${id}`, timeoutMs: 10 * 60_000, signal: ctx.signal, ...pollPace(o) },
  );
}

/** What a shift changes: both members, in one batch. */
interface ShiftChange {
  zoneId: string;
  changes: Change[];
}

function shiftStep(
  o: ProgressiveDnsOptions,
  read: () => Promise<Weights>,
  p: number,
  dependsOn: string[],
): Step<ShiftChange, void> {
  const to = dnsRecordOf(o.to)!;
  const lbName = o.to.aws.find((x) => x.id === to.properties.loadBalancer)?.name;
  return awsStep<ShiftChange, void>({
    name: shiftStepName(p),
    description: `${p}% of ${to.properties.record} to ${o.to.colour}, ${100 - p}% to ${o.from.colour} (one change)`,
    dependsOn,
    timeoutMs: 15 * 60_000,
    async check() {
      const lb = lbName ? await o.aws.elbv2.describeLoadBalancer(lbName) : undefined;
      if (!lb?.DNSName || !lb.CanonicalHostedZoneId)
        throw new KubecontrolError("PRECONDITION", `load balancer ${lbName} of ${o.to.colour} not found`, {
          hint: `the ${o.to.colour} colour must be in place before DNS gives it traffic`,
        });
      const w = await read();
      const now = w.describe();
      if (!w.from) return { satisfied: true, reason: `${now}: no other colour shares the name` };
      const at = w.to?.Weight ?? 0;
      const target = { DNSName: lb.DNSName, zoneId: lb.CanonicalHostedZoneId };
      // A share the weights are already past (an interrupted run went further) is not taken back.
      const share = Math.max(p, at);
      const want = desiredSet(to, share, target);
      if (w.to && same(w.to, want) && w.from.Weight === 100 - share)
        return { satisfied: true, reason: at > p ? `${now}: past ${p}%` : now };
      const changes: Change[] = [{ Action: "UPSERT", ResourceRecordSet: want }];
      if (w.from.Weight !== 100 - share)
        changes.push({ Action: "UPSERT", ResourceRecordSet: { ...w.from, Weight: 100 - share } });
      return { satisfied: false, reason: now, needed: { zoneId: w.zoneId, changes } };
    },
    async apply(ctx, needed) {
      await changeInOneBatch(
        o,
        ctx,
        needed!.zoneId,
        needed!.changes,
        `${p}% of ${to.properties.record} to ${o.to.colour}`,
      );
      return undefined;
    },
    summarize: (changed) =>
      changed
        ? `${o.to.colour} at ${p}%, ${o.from.colour} at ${100 - p}% (INSYNC)`
        : `${o.to.colour} already has ${p}% or more`,
  });
}

function judgeStep(
  o: ProgressiveDnsOptions,
  read: () => Promise<Weights>,
  p: number,
  dependsOn: string[],
): Step<number, void> {
  const seconds = Math.round(o.windowMs / 1000);
  return awsStep<number, void>({
    name: judgeStepName(p),
    description: `${o.to.colour} judged again at ${p}% of the traffic, after ${seconds}s for resolvers`,
    dependsOn,
    timeoutMs: o.windowMs + o.judgeTimeoutMs + 15 * 60_000,
    async check() {
      const w = await read();
      const at = w.to?.Weight ?? 0;
      if (!w.from) return { satisfied: true, reason: `${w.describe()}: no other colour shares the name` };
      if (at > p) return { satisfied: true, reason: `${w.describe()}: past ${p}%` };
      if (at < p)
        throw new KubecontrolError(
          "PRECONDITION",
          `DNS gives ${w.toId} weight ${at}, less than the ${p}% this run gave it: someone changed the record`,
          { hint: "run the update again: it goes on from the weights as they are" },
        );
      return { satisfied: false, reason: `${w.describe()}: to judge`, needed: p };
    },
    async apply(ctx) {
      if (o.windowMs > 0) {
        ctx.waiting(`${seconds}s at ${p}% for resolvers to pick the change up (resolverCache)`);
        await sleep(o.windowMs, ctx.signal);
        if (ctx.signal.aborted) throw ctx.signal.reason;
      }
      try {
        await o.judge(ctx);
      } catch (err) {
        // Cancelled or the lease lost: the weights stay as they are, for the re-run to go on from.
        if (ctx.signal.aborted) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        ctx.log(
          "warn",
          `${o.to.colour} failed its judgement at ${p}%: putting all of DNS back on ${o.from.colour}`,
        );
        await rollBack(o, ctx, read);
        throw new KubecontrolError(
          "VERIFY_FAILED",
          `${o.to.colour} failed its judgement at ${p}% of the traffic, so all of DNS is back on ${o.from.colour}: ${reason}`,
          {
            cause: err,
            hint: o.hint,
            ...(err instanceof KubecontrolError && err.details ? { details: err.details } : {}),
          },
        );
      }
      return undefined;
    },
    summarize: (changed) => (changed ? `${o.to.colour} passed at ${p}%` : `past ${p}% already`),
  });
}

/** All of the weight back on the old colour, in one change: new colour 0, old colour 100. */
async function rollBack(
  o: ProgressiveDnsOptions,
  ctx: StepContext,
  read: () => Promise<Weights>,
): Promise<void> {
  const w = await read();
  const changes: Change[] = [];
  if (w.from && w.from.Weight !== 100)
    changes.push({ Action: "UPSERT", ResourceRecordSet: { ...w.from, Weight: 100 } });
  if (w.to && w.to.Weight !== 0)
    changes.push({ Action: "UPSERT", ResourceRecordSet: { ...w.to, Weight: 0 } });
  if (changes.length > 0)
    await changeInOneBatch(
      o,
      ctx,
      w.zoneId,
      changes,
      `all of ${w.to?.Name ?? "the record"} back to ${o.from.colour}`,
    );
}
