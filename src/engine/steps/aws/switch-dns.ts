import type { Change } from "@aws-sdk/client-route-53";
import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { DnsRecord } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import { sleep, waitUntil } from "../../../wait.js";
import type { Step } from "../../step.js";
import { assertOwnRecordSet, rrType, zoneIdOf } from "./dns-record.js";
import { desiredSet, same } from "./shift-dns.js";
import { awsStep, pollPace, retryEventual, type StackEnv } from "./stack-env.js";

/** The step that moves all traffic from one colour to the other. */
export const SWITCH_DNS = "switch-dns";

/** The weighted record a colour's plan has, if the app has a DNS name. */
export function dnsRecordOf(plan: Plan): DnsRecord | undefined {
  return plan.aws.find((x): x is DnsRecord => x.kind === "route53-record");
}

export interface SwitchDnsOptions {
  /** The colour that gets every request: its plan (record and load balancer). */
  to: Plan;
  /** The colour that gets none (weight 0; a colour without a record stays without one). */
  from: Plan;
  aws: Aws;
  pace?: StackEnv["pace"];
  dependsOn?: string[];
}

/**
 * Moves the app's weighted record set to one colour in a single Route 53 change batch: the
 * `to` colour's record UPSERTed at weight 100 and the `from` colour's at weight 0, together, so
 * there is never a moment when no record has weight (Route 53 applies a batch atomically). The
 * apply submits the batch; the wait lasts until the change is INSYNC on every Route 53 server.
 */
export function switchDnsStep(o: SwitchDnsOptions): Step<Change[], string> {
  const { aws } = o;
  const to = dnsRecordOf(o.to);
  const from = dnsRecordOf(o.from);
  if (!to || !from)
    throw new KubecontrolError("INTERNAL", `${o.to.app} has no DNS record: there is nothing to switch`);
  const lbName = o.to.aws.find((x) => x.id === to.properties.loadBalancer)?.name;
  const toId = to.properties.setIdentifier;
  const fromId = from.properties.setIdentifier;
  const record = to.properties.record;
  let zoneId: string | undefined;
  return awsStep<Change[], string>({
    name: SWITCH_DNS,
    description: `all of ${record} to ${o.to.colour} (${toId} weight 100, ${fromId} weight 0, one change)`,
    dependsOn: o.dependsOn ?? [],
    timeoutMs: 15 * 60_000,
    async check() {
      const lb = lbName ? await aws.elbv2.describeLoadBalancer(lbName) : undefined;
      if (!lb?.DNSName || !lb.CanonicalHostedZoneId)
        throw new KubecontrolError("PRECONDITION", `load balancer ${lbName} of ${toId} not found`, {
          hint: `the ${o.to.colour} colour must be in place before DNS is moved to it`,
        });
      zoneId = await zoneIdOf(aws, to);
      const sets = await aws.route53.recordSets(zoneId, record, rrType(to));
      assertOwnRecordSet(sets, to);
      const current = sets.find((s) => s.SetIdentifier === toId);
      const old = sets.find((s) => s.SetIdentifier === fromId);
      const want = desiredSet(to, 100, { DNSName: lb.DNSName, zoneId: lb.CanonicalHostedZoneId });
      const changes: Change[] = [];
      if (!current || !same(current, want)) changes.push({ Action: "UPSERT", ResourceRecordSet: want });
      if (old && old.Weight !== 0)
        changes.push({ Action: "UPSERT", ResourceRecordSet: { ...old, Weight: 0 } });
      const now = `${toId} ${current ? `weight ${current.Weight}` : "missing"}, ${fromId} ${old ? `weight ${old.Weight}` : "missing"}`;
      if (changes.length === 0) return { satisfied: true, reason: now };
      return { satisfied: false, reason: now, needed: changes };
    },
    async apply(ctx, changes) {
      const what = `switch ${record} to ${toId}`;
      return retryEventual(
        ctx,
        what,
        () => aws.route53.changeRecordSets(zoneId!, changes ?? [], what),
        (err) => hasCode(err, "PriorRequestNotComplete"),
      );
    },
    async wait(ctx, changeId) {
      if (!changeId) return changeId;
      ctx.waiting(`the switch to ${toId} to reach every Route 53 server`);
      await waitUntil(
        async () =>
          (await aws.route53.changeInSync(changeId))
            ? { done: true, value: true }
            : { done: false, state: "PENDING" },
        { what: `Route 53 change ${changeId}`, timeoutMs: 10 * 60_000, signal: ctx.signal, ...pollPace(o) },
      );
      return changeId;
    },
    summarize: (changed) =>
      changed ? `${toId} at weight 100, ${fromId} at 0 (INSYNC)` : `${toId} already has all the weight`,
  });
}

/** The step that gives the old colour's clients time to move before it is torn down. */
export const DRAIN = "wait-for-drain";

export interface DrainOptions {
  /** The colour about to be torn down. */
  old: Plan;
  aws: Aws;
  /** How long to wait once the old colour has weight 0; 0: not at all. */
  drainMs: number;
  dependsOn?: string[];
}

/**
 * Waits `drainMs` while the old colour still has a (weight 0) record: resolvers may hold its
 * answer for the record's TTL and clients keep their connections open. Never lets a colour
 * that DNS still gives weight go on to its teardown. Once the old record is gone (its
 * teardown has begun) there is nothing to wait for, so a re-run does not wait again.
 */
export function drainStep(o: DrainOptions): Step<number, void> {
  const { aws } = o;
  const r = dnsRecordOf(o.old);
  const seconds = Math.round(o.drainMs / 1000);
  return awsStep<number, void>({
    name: DRAIN,
    description: `wait ${seconds}s for the clients of ${o.old.colour} to move before it is removed`,
    dependsOn: o.dependsOn ?? [],
    // The drain itself plus time to read the record.
    timeoutMs: o.drainMs + 5 * 60_000,
    async check() {
      if (!r) return { satisfied: true, reason: `${o.old.colour} has no DNS record` };
      const zone = await aws.route53.findHostedZone(r.properties.zone);
      const set = zone
        ? (await aws.route53.recordSets(zone.Id!, r.properties.record, rrType(r))).find(
            (s) => s.SetIdentifier === r.properties.setIdentifier,
          )
        : undefined;
      if (!set) return { satisfied: true, reason: `${r.properties.setIdentifier} has no record` };
      if ((set.Weight ?? 0) > 0)
        throw new KubecontrolError(
          "PRECONDITION",
          `DNS gives ${r.properties.setIdentifier} weight ${set.Weight}: it is not removed while it serves`,
          { hint: "someone changed the record since the switch; run the update again" },
        );
      if (o.drainMs <= 0) return { satisfied: true, reason: "weight 0, no drain asked for" };
      return { satisfied: false, reason: `weight 0; draining for ${seconds}s`, needed: o.drainMs };
    },
    // Nothing to change: the step only waits.
    async wait(ctx) {
      ctx.waiting(`${seconds}s drain of ${o.old.colour} (DNS caches, open connections)`);
      await sleep(o.drainMs, ctx.signal);
      return undefined;
    },
    summarize: (changed) => (changed ? `drained for ${seconds}s` : "nothing to drain"),
  });
}
