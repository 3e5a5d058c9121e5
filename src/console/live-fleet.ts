import type { Aws } from "../aws/create-aws.js";
import type { AppStatus } from "../engine/observe/app-status.js";
import type { HistoryStore } from "../history/types.js";
import type { LoadOptions } from "../spec/loader.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import { cached, type FleetSource, type FleetView } from "./fleet.js";

/** What the live fleet reads with. */
export interface LiveFleetOptions {
  appsDir: string;
  loadOptions: LoadOptions;
  store: HistoryStore;
  /** AWS clients for a region (one set per region, shared by every read). */
  awsFor(region: string): Aws;
  awsEndpoint?: string | undefined;
  requestTimeoutMs: number;
  /** Apps read at once. */
  parallel: number;
  /** How long a read is served to every request before the fleet is read again. */
  cacheMs: number;
  /** How long one app's reads may take before it is shown as unknown. */
  appTimeoutMs?: number;
}

/**
 * The fleet read live, as `kubecontrol status --all` reads it: the specs in the apps directory,
 * each app through readAppStatus, at most `parallel` at once, and the whole read cached for
 * `cacheMs`, so any number of open pages cause one read per period (AWS is not called per
 * browser). The AWS SDK and the specs are loaded at the first read, not at start.
 */
export function liveFleet(o: LiveFleetOptions): FleetSource {
  const read = cached(async (): Promise<FleetView> => {
    const [{ loadApps }, { readAppStatusWithin }, { mapBounded }] = await Promise.all([
      import("../spec/loader.js"),
      import("../engine/observe/app-status.js"),
      import("../kube/map-bounded.js"),
    ]);
    const { apps, errors } = await loadApps(o.appsDir, o.loadOptions);
    const chosen = apps.map((a) => a.app).sort((a, b) => a.name.localeCompare(b.name));
    const statuses = await mapBounded(
      chosen,
      o.parallel,
      (app: ResolvedKubeApp): Promise<AppStatus> =>
        readAppStatusWithin(
          app,
          o.awsFor(app.region),
          {
            lease: () => o.store.currentLease(app.name),
            lastRun: async () => (await o.store.listRuns({ app: app.name, limit: 1 }))[0],
            awsEndpoint: o.awsEndpoint,
            requestTimeoutMs: o.requestTimeoutMs,
          },
          o.appTimeoutMs ?? 30_000,
        ),
    );
    return {
      apps: statuses.map((status, i) => ({ status, desiredNodes: desiredNodes(chosen[i]!) })),
      readAt: Date.now(),
      source: "live",
      problems: errors.map((e) => e.message),
    };
  }, o.cacheMs);
  return { read, close: async () => {} };
}

/** The nodes an app's pools ask for: each pool's desired capacity, else its minimum. */
function desiredNodes(app: ResolvedKubeApp): number {
  return Object.values(app.hardware).reduce((n, pool) => n + (pool.desired ?? pool.min), 0);
}
