import { createHash } from "node:crypto";

export type Colour = "blue" | "green";
export const COLOURS: readonly Colour[] = ["blue", "green"];

/** The colour that is not `c`. */
export function other(c: Colour): Colour {
  return c === "blue" ? "green" : "blue";
}

/** AWS name length limits for the resources kubecontrol names. */
export const NAME_LIMITS = {
  iamRole: 64,
  instanceProfile: 128,
  eksCluster: 100,
  securityGroup: 255,
  launchTemplate: 128,
  autoScalingGroup: 255,
  loadBalancer: 32,
  targetGroup: 32,
  ecrRepository: 256,
} as const;

/** Six hex characters of sha256: enough to keep shortened names apart, short enough to leave room. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 6);
}

/**
 * `kc-<parts...>` within `limit` characters. Too long, the app part is cut and a hash of the
 * full name is added, so names stay deterministic and distinct; the tail (colour, part) is kept
 * whole because people read it.
 */
export function resourceName(app: string, tail: readonly string[], limit: number): string {
  const full = ["kc", app, ...tail].join("-");
  if (full.length <= limit) return full;
  const suffix = tail.join("-");
  const hash = shortHash(full);
  const room = limit - ("kc-".length + hash.length + 1 + (suffix ? suffix.length + 1 : 0));
  if (room < 1) return `kc-${hash}-${suffix}`.slice(0, limit).replace(/-+$/, "");
  const cut = app.slice(0, room).replace(/-+$/, "");
  return [`kc-${cut}`, hash, suffix].filter(Boolean).join("-");
}

/** Deterministic names of one app's resources. */
export function namesFor(app: string, colour: Colour) {
  return {
    clusterRole: resourceName(app, ["cluster"], NAME_LIMITS.iamRole),
    nodeRole: resourceName(app, ["node"], NAME_LIMITS.iamRole),
    nodeInstanceProfile: resourceName(app, ["node"], NAME_LIMITS.instanceProfile),
    cluster: resourceName(app, [colour], NAME_LIMITS.eksCluster),
    securityGroup: (part: "lb" | "nodes" | "cluster") =>
      resourceName(app, [colour, part], NAME_LIMITS.securityGroup),
    launchTemplate: (pool: string) => resourceName(app, [colour, pool], NAME_LIMITS.launchTemplate),
    autoScalingGroup: (pool: string) => resourceName(app, [colour, pool], NAME_LIMITS.autoScalingGroup),
    loadBalancer: resourceName(app, [colour], NAME_LIMITS.loadBalancer),
    targetGroup: (service: string) => resourceName(app, [colour, service], NAME_LIMITS.targetGroup),
    /** Route 53 cannot tag records: the set identifier marks a record as this colour's. */
    recordSetIdentifier: `kc-${app}-${colour}`,
  };
}
