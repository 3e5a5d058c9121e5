import type { Aws } from "../../aws/create-aws.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import { type Plan, planApp } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { rrType } from "../steps/aws/dns-record.js";
import { dnsRecordOf } from "../steps/aws/switch-dns.js";

/** What stands of one colour of an app, as AWS answers now. */
export interface ColourState {
  colour: Colour;
  /** The colour's EKS cluster, if there is one (DELETING and FAILED ones included). */
  cluster:
    | {
        name: string;
        status: string;
        kubernetesVersion?: string | undefined;
        /** When it was made (ms since the epoch). */
        createdAt?: number | undefined;
        /** Its tags (the retention tags among them). */
        tags?: Record<string, string> | undefined;
        /** Where its API answers, once it has one (not while CREATING). */
        endpoint?: { endpoint: string; certificateAuthority: string } | undefined;
      }
    | undefined;
  /** The colour's member of the app's weighted record set, if there is one. */
  record: { weight: number; ttl?: number | undefined } | undefined;
}

/** What stands of an app: both colours, and the DNS name that chooses between them. */
export interface AppState {
  app: string;
  /** The app's weighted record (undefined for an app without a load-balanced service). */
  dnsName: string | undefined;
  /** Whether the record's hosted zone exists (always true without a DNS name). */
  zoneFound: boolean;
  colours: Record<Colour, ColourState>;
}

// Names, set identifiers and record names do not depend on the version.
const ANY_VERSION = "observe";

/** Both colours' plans: what the app's resources are called. */
export function colourPlans(app: ResolvedKubeApp): Record<Colour, Plan> {
  return {
    blue: planApp({ app, colour: "blue", version: ANY_VERSION }),
    green: planApp({ app, colour: "green", version: ANY_VERSION }),
  };
}

/**
 * Reads what stands of `app`, read-only and at once: each colour's cluster and its member of the
 * weighted record set (the set is read once; both colours' members share its name).
 */
export async function observeApp(app: ResolvedKubeApp, aws: Aws): Promise<AppState> {
  const plans = colourPlans(app);
  const record = dnsRecordOf(plans.blue);
  const [clusters, sets] = await Promise.all([
    Promise.all(COLOURS.map((c) => aws.eks.describeCluster(plans[c].cluster))),
    (async () => {
      if (!record) return { zoneFound: true, sets: [] };
      const zone = await aws.route53.findHostedZone(record.properties.zone);
      if (!zone) return { zoneFound: false, sets: [] };
      return {
        zoneFound: true,
        sets: await aws.route53.recordSets(zone.Id!, record.properties.record, rrType(record)),
      };
    })(),
  ]);
  const colour = (c: Colour, i: number): ColourState => {
    const cluster = clusters[i];
    const set = sets.sets.find((s) => s.SetIdentifier === dnsRecordOf(plans[c])?.properties.setIdentifier);
    return {
      colour: c,
      cluster: cluster
        ? {
            name: plans[c].cluster,
            status: cluster.status ?? "UNKNOWN",
            kubernetesVersion: cluster.version,
            createdAt: cluster.createdAt?.getTime(),
            tags: cluster.tags ?? {},
            endpoint:
              cluster.endpoint && cluster.certificateAuthority?.data
                ? { endpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority.data }
                : undefined,
          }
        : undefined,
      record: set ? { weight: set.Weight ?? 0, ttl: set.TTL } : undefined,
    };
  };
  return {
    app: app.name,
    dnsName: record?.properties.record,
    zoneFound: sets.zoneFound,
    colours: { blue: colour("blue", 0), green: colour("green", 1) },
  };
}
