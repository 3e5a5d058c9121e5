import type * as Sq from "@aws-sdk/client-service-quotas";
import type { AwsOptions } from "./client-config.js";
import { awsCall, hasCode } from "./errors.js";
import { lazyClient } from "./lazy.js";

/** A quota's value as Service Quotas gives it. */
export interface Quota {
  serviceCode: string;
  quotaCode: string;
  name: string;
  value: number;
  /** True when the account's applied value was read; false for AWS's default (never raised). */
  applied: boolean;
}

/** Service Quotas: the quotas preflight weighs a deployment against. */
export class ServiceQuotas {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-service-quotas"),
      (m: typeof Sq, c) => new m.ServiceQuotasClient(c),
      options,
    );
  }

  /** The applied value of a quota, or AWS's default when it was never raised (NoSuchResourceException). */
  async quota(serviceCode: string, quotaCode: string): Promise<Quota> {
    const { m, client } = await this.sdk();
    const what = `quota ${serviceCode}/${quotaCode}`;
    const input = { ServiceCode: serviceCode, QuotaCode: quotaCode };
    let applied = true;
    const quota = await awsCall("servicequotas", "GetServiceQuota", what, async () => {
      return (await client.send(new m.GetServiceQuotaCommand(input))).Quota;
    }).catch((err: unknown) => {
      if (!hasCode(err, "NoSuchResourceException")) throw err;
      applied = false;
      return awsCall("servicequotas", "GetAWSDefaultServiceQuota", what, async () => {
        return (await client.send(new m.GetAWSDefaultServiceQuotaCommand(input))).Quota;
      });
    });
    return { serviceCode, quotaCode, name: quota?.QuotaName ?? quotaCode, value: quota?.Value ?? 0, applied };
  }
}
