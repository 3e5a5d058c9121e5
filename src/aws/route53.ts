import type * as Sdk from "@aws-sdk/client-route-53";
import type { AwsOptions } from "./client-config.js";
import { awsCall } from "./errors.js";
import { lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The Route 53 calls kubecontrol makes: find the zone, read and change weighted records. */
export class Route53 {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-route-53"),
      (m, c) => new m.Route53Client(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.Route53Client) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("route53", op, what, () => f(m, client));
  }

  /** The public hosted zone of exactly this name, or undefined. */
  findHostedZone(zone: string): Promise<Sdk.HostedZone | undefined> {
    const dotted = zone.endsWith(".") ? zone : `${zone}.`;
    return this.run("ListHostedZonesByName", `hosted zone ${zone}`, async (m, c) => {
      const r = await c.send(new m.ListHostedZonesByNameCommand({ DNSName: dotted, MaxItems: 10 }));
      return r.HostedZones?.find((z) => z.Name === dotted && !z.Config?.PrivateZone);
    });
  }

  /** Every record set of one name and type (all weighted members), read whole. */
  recordSets(zoneId: string, name: string, type: Sdk.RRType): Promise<Sdk.ResourceRecordSet[]> {
    const dotted = name.endsWith(".") ? name : `${name}.`;
    return this.run("ListResourceRecordSets", `records ${name} ${type}`, async (m, c) => {
      const out: Sdk.ResourceRecordSet[] = [];
      let start: { name?: string; type?: Sdk.RRType; id?: string } = { name: dotted, type };
      for (;;) {
        const r = await c.send(
          new m.ListResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            StartRecordName: start.name,
            StartRecordType: start.type,
            StartRecordIdentifier: start.id,
          }),
        );
        const sets = r.ResourceRecordSets ?? [];
        const matching = sets.filter((s) => s.Name === dotted && s.Type === type);
        out.push(...matching);
        // Records are sorted by name then type: once past ours, there is nothing more to read.
        if (!r.IsTruncated || matching.length < sets.length) return out;
        start = { name: r.NextRecordName, type: r.NextRecordType, id: r.NextRecordIdentifier };
      }
    });
  }

  /** Submits a change batch; returns the change id to wait on. */
  changeRecordSets(zoneId: string, changes: Sdk.Change[], what: string): Promise<string> {
    return this.run("ChangeResourceRecordSets", what, async (m, c) => {
      const r = await c.send(
        new m.ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }),
      );
      return r.ChangeInfo!.Id!;
    });
  }

  /** Whether a change has reached every Route 53 server. */
  changeInSync(changeId: string): Promise<boolean> {
    return this.run("GetChange", `change ${changeId}`, async (m, c) => {
      return (await c.send(new m.GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status === "INSYNC";
    });
  }
}
