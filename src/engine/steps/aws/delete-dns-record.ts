import type { DnsRecord } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { deletionStep } from "./deletion-step.js";
import { changeAndWait, findColourRecord } from "./dns-record.js";
import type { StackEnv } from "./stack-env.js";

/** Removes this colour's member of the weighted record set (found by its set identifier). */
export function deleteDnsRecordStep(r: DnsRecord, env: StackEnv): Step {
  const { aws } = env;
  return deletionStep({
    id: r.id,
    description: `record ${r.properties.record} (${r.properties.setIdentifier})`,
    env,
    async find() {
      const zone = await aws.route53.findHostedZone(r.properties.zone);
      if (!zone) return undefined;
      const set = await findColourRecord(aws, zone.Id!, r);
      return set ? { zoneId: zone.Id!, set } : undefined;
    },
    // DELETE must repeat the record exactly as it is, which is why it was just read.
    remove: (found, ctx) =>
      changeAndWait(aws, found.zoneId, { Action: "DELETE", ResourceRecordSet: found.set }, ctx, env),
  });
}
