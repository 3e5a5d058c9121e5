import type { ResourceRecordSet } from "@aws-sdk/client-route-53";
import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { DnsRecord } from "../../../plan/aws-types.js";
import { waitUntil } from "../../../wait.js";
import type { StepContext } from "../../step.js";
import { pollPace, retryEventual, type StackEnv } from "./stack-env.js";

/** The hosted zone id of the record's zone; a missing zone is the user's to fix. */
export async function zoneIdOf(aws: Aws, r: DnsRecord): Promise<string> {
  const zone = await aws.route53.findHostedZone(r.properties.zone);
  if (!zone)
    throw new KubecontrolError("PRECONDITION", `no public hosted zone ${r.properties.zone}`, {
      hint: `create the hosted zone ${r.properties.zone} in Route 53, or fix dns.zone in the spec`,
    });
  return zone.Id!;
}

/** The record type in Route 53 terms. */
export function rrType(r: DnsRecord): "CNAME" | "A" {
  return r.properties.type === "CNAME" ? "CNAME" : "A";
}

/** This colour's member of the weighted set, found by its set identifier. */
export async function findColourRecord(
  aws: Aws,
  zoneId: string,
  r: DnsRecord,
): Promise<ResourceRecordSet | undefined> {
  const sets = await aws.route53.recordSets(zoneId, r.properties.record, rrType(r));
  return sets.find((s) => s.SetIdentifier === r.properties.setIdentifier);
}

/**
 * Refuses a weighted record set with members that are neither of the app's colours (another
 * app's, made by hand, or a plain record of the same name): moving weight would share the
 * name's traffic with them. NOT_OWNED (exit 6), naming them.
 */
export function assertOwnRecordSet(sets: readonly ResourceRecordSet[], r: DnsRecord): void {
  const app = r.properties.setIdentifier.replace(/-(blue|green)$/, "");
  const ours = new Set([`${app}-blue`, `${app}-green`]);
  const foreign = sets.map((s) => s.SetIdentifier ?? "(a plain record)").filter((id) => !ours.has(id));
  if (foreign.length === 0) return;
  throw new KubecontrolError(
    "NOT_OWNED",
    `${r.properties.record} has members that are not ${app.replace(/^kc-/, "")}'s (${foreign.join(", ")}): moving its weights would share the name's traffic with them`,
    {
      hint: "each app's DNS record is its own: give one of the apps another dns.record, or remove the other members by hand",
      details: { record: r.properties.record, foreign },
    },
  );
}

/** Submits a change, retrying while an earlier change of the zone is still being applied, and waits for INSYNC. */
export async function changeAndWait(
  aws: Aws,
  zoneId: string,
  change: { Action: "UPSERT" | "DELETE"; ResourceRecordSet: ResourceRecordSet },
  ctx: StepContext,
  env: Pick<StackEnv, "pace">,
): Promise<void> {
  const what = `${change.Action} ${change.ResourceRecordSet.Name} (${change.ResourceRecordSet.SetIdentifier})`;
  const id = await retryEventual(
    ctx,
    what,
    () => aws.route53.changeRecordSets(zoneId, [change], what),
    (err) => hasCode(err, "PriorRequestNotComplete"),
  );
  ctx.waiting(`${what} to reach every Route 53 server`);
  await waitUntil(
    async () =>
      (await aws.route53.changeInSync(id)) ? { done: true, value: true } : { done: false, state: "PENDING" },
    { what: `Route 53 change ${id}`, timeoutMs: 10 * 60_000, signal: ctx.signal, ...pollPace(env) },
  );
}
