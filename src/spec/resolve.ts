import type { AddonWorkload } from "./defaults/addons.js";
import { loggingAddon, metricsAddon } from "./defaults/addons.js";
import { type CompanyDefaults, companyDefaults } from "./defaults/company.js";
import type { KubeAppParsed, Pool } from "./schema.js";

/** Operator settings that feed into an app (from the configuration file or environment). */
export interface ResolveOptions {
  region?: string;
  defaults?: CompanyDefaults;
}

/** A KubeApp with every default applied: what the plan consumes. */
export interface ResolvedKubeApp extends Omit<KubeAppParsed, "region" | "network" | "dns" | "hardware"> {
  region: string;
  network: { vpc: { tag: string } | { id: string } };
  /** Absent when the app has no load-balanced service (nothing to point a name at). */
  dns: { zone: string; record: string; ttl: number } | undefined;
  hardware: Record<string, Pool & { desired: number }>;
  amiFamily: CompanyDefaults["amiFamily"];
  addonWorkloads: AddonWorkload[];
  keepImages: number;
}

/** Applies the company defaults and operator settings to a parsed spec. */
export function resolveApp(app: KubeAppParsed, options: ResolveOptions = {}): ResolvedKubeApp {
  const defaults = options.defaults ?? companyDefaults;
  const region = app.region ?? options.region ?? defaults.region;
  const hasLoadBalancer = Object.values(app.services).some((s) => s.loadBalancer);
  const zone = app.dns?.zone ?? defaults.dnsZone;
  const dns =
    app.dns || hasLoadBalancer
      ? { zone, record: app.dns?.record ?? `${app.name}.${zone}`, ttl: app.dns?.ttl ?? defaults.dnsTtl }
      : undefined;
  const hardware = Object.fromEntries(
    Object.entries(app.hardware).map(([name, pool]) => [
      name,
      { ...pool, desired: pool.desired ?? pool.min },
    ]),
  );
  const firstPool = Object.keys(app.hardware)[0]!;
  // a Deployment add-on runs where nothing needs tolerating (validation requires such a pool)
  const untainted =
    Object.entries(app.hardware).find(([, pool]) =>
      pool.taints.every((t) => t.effect !== "NoSchedule" && t.effect !== "NoExecute"),
    )?.[0] ?? firstPool;
  const addonWorkloads: AddonWorkload[] = [];
  if (app.addons.logging) addonWorkloads.push(loggingAddon(app.name, region, firstPool));
  if (app.addons.metrics) addonWorkloads.push(metricsAddon(app.name, region, untainted));
  return {
    ...app,
    region,
    network: app.network ?? defaults.network,
    dns,
    hardware,
    amiFamily: defaults.amiFamily,
    addonWorkloads,
    keepImages: defaults.keepImages,
  };
}
