import { hasCode } from "../../../aws/errors.js";
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
    owner: {
      byName: `a weighted record is its colour's by its set identifier ${r.properties.setIdentifier}`,
    },
    // DELETE must repeat the record exactly as it is, which is why it was just read.
    async remove(found, ctx) {
      try {
        await changeAndWait(aws, found.zoneId, { Action: "DELETE", ResourceRecordSet: found.set }, ctx, env);
      } catch (err) {
        // A retried DELETE whose first answer was lost finds nothing to delete.
        if (!hasCode(err, "InvalidChangeBatch") || (await findColourRecord(aws, found.zoneId, r))) throw err;
      }
    },
  });
}
