import type { ResourceRecordSet } from "@aws-sdk/client-route-53";
import { KubecontrolError } from "../../../errors.js";
import type { DnsRecord } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { assertOwnRecordSet, changeAndWait, rrType, zoneIdOf } from "./dns-record.js";
import { awsStep, type StackEnv } from "./stack-env.js";

const trim = (s: string | undefined) => (s ?? "").toLowerCase().replace(/\.$/, "");
/**
 * An alias target's name as compared: Route 53 reads an alias to an Application or Classic Load
 * Balancer back as `dualstack.<name>`, which resolves to the same load balancer.
 */
const aliasName = (s: string | undefined) => trim(s).replace(/^dualstack\./, "");

/** The colour's member of the weighted set as it should be, pointing at the colour's load balancer. */
export function desiredSet(
  r: DnsRecord,
  weight: number,
  lb: { DNSName: string; zoneId: string },
): ResourceRecordSet {
  const p = r.properties;
  const base = {
    Name: `${trim(p.record)}.`,
    Type: rrType(r),
    SetIdentifier: p.setIdentifier,
    Weight: weight,
  };
  if (p.type === "CNAME") return { ...base, TTL: p.ttl, ResourceRecords: [{ Value: lb.DNSName }] };
  return {
    ...base,
    AliasTarget: { HostedZoneId: lb.zoneId, DNSName: lb.DNSName, EvaluateTargetHealth: true },
  };
}

/** Whether two members of the weighted set agree on weight, TTL and target. */
export function same(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return (
    a.Weight === b.Weight &&
    (a.TTL ?? 0) === (b.TTL ?? 0) &&
    trim(a.ResourceRecords?.[0]?.Value) === trim(b.ResourceRecords?.[0]?.Value) &&
    aliasName(a.AliasTarget?.DNSName) === aliasName(b.AliasTarget?.DNSName)
  );
}

/**
 * Sets this colour's weight in the app's weighted record set (CNAME, or alias A at a zone
 * apex). Never part of the colour's stack graph: the engine runs it after verification, with
 * the weight it chose.
 */
export function shiftDnsStep(
  r: DnsRecord,
  env: StackEnv,
  weight: number,
  dependsOn: string[] = [],
): Step<ResourceRecordSet, void> {
  const { aws } = env;
  const lbName = env.plan.aws.find((x) => x.id === r.properties.loadBalancer)?.name;
  return awsStep<ResourceRecordSet, void>({
    name: `shift-dns/${r.properties.setIdentifier}`,
    description: `weight ${weight} for ${r.properties.setIdentifier} in ${r.properties.record}`,
    dependsOn,
    timeoutMs: 15 * 60_000,
    async check() {
      const lb = lbName ? await aws.elbv2.describeLoadBalancer(lbName) : undefined;
      if (!lb)
        throw new KubecontrolError(
          "PRECONDITION",
          `load balancer ${lbName} of ${r.properties.setIdentifier} not found`,
          {
            hint: "create the colour before pointing DNS at it",
          },
        );
      const want = desiredSet(r, weight, { DNSName: lb.DNSName!, zoneId: lb.CanonicalHostedZoneId! });
      const sets = await aws.route53.recordSets(await zoneIdOf(aws, r), r.properties.record, rrType(r));
      assertOwnRecordSet(sets, r);
      const current = sets.find((s) => s.SetIdentifier === r.properties.setIdentifier);
      if (current && same(current, want)) return { satisfied: true, reason: `weight ${weight}` };
      return { satisfied: false, reason: current ? `weight ${current.Weight}` : "missing", needed: want };
    },
    async apply(ctx, want) {
      await changeAndWait(
        aws,
        await zoneIdOf(aws, r),
        { Action: "UPSERT", ResourceRecordSet: want! },
        ctx,
        env,
      );
    },
    summarize: (changed) =>
      `${r.properties.record} → ${lbName ?? r.properties.setIdentifier}: weight ${weight}${changed ? "" : " already"}`,
  });
}
