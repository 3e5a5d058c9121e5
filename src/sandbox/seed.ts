import { companyDefaults } from "../spec/defaults/company.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import { KUBERNETES_VERSIONS } from "../spec/schema.js";

/**
 * What an AWS account already has before kubecontrol deploys into it, as the sandbox seeds it
 * (on `sandbox up` and `sandbox reset`). The launcher applies it through moto's own AWS API and
 * re-applies it after every reset; it is written to `<sandbox>/seed.json`.
 */
export interface SeedRequirements {
  region: string;
  /** Tag filters `key=value` of the VPCs apps look up (the spec's network.vpc.tag). */
  vpcTags: string[];
  /** Availability zones of the public and private subnets (one of each per zone). */
  zones: string[];
  /** Route 53 public hosted zones. */
  hostedZones: string[];
  /** ACM certificates, issued by the sandbox CA. */
  certificateDomains: string[];
  /** Secrets Manager secrets holding a JSON object with these keys. */
  secrets: { name: string; keys: string[] }[];
  /** Kubernetes versions whose EKS AMI parameters exist (besides the supported range). */
  kubernetesVersions: string[];
  /** IAM roles and users (ARNs, paths included) the apps name as cluster admins. */
  iamPrincipals: string[];
}

/** What every sandbox has, apps or not: the company's VPC and DNS zone in three zones. */
export function defaultSeedRequirements(
  region: string = companyDefaults.region,
  dnsZone = companyDefaults.dnsZone,
): SeedRequirements {
  return {
    region,
    vpcTags: [companyDefaults.network.vpc.tag],
    zones: ["a", "b", "c"].map((z) => `${region}${z}`),
    hostedZones: [dnsZone],
    certificateDomains: [],
    secrets: [],
    kubernetesVersions: [...KUBERNETES_VERSIONS],
    iamPrincipals: [],
  };
}

function addUnique(list: string[], value: string | undefined): void {
  if (value && !list.includes(value)) list.push(value);
}

/** Adds what each app expects to find in its account (VPC tag, zones, certificates, secrets, versions). */
export function seedRequirementsFromApps(
  apps: readonly ResolvedKubeApp[],
  base: SeedRequirements,
): SeedRequirements {
  const seed: SeedRequirements = structuredClone(base);
  const secrets = new Map(seed.secrets.map((s) => [s.name, [...s.keys]]));
  for (const app of apps) {
    if ("tag" in app.network.vpc) addUnique(seed.vpcTags, app.network.vpc.tag);
    addUnique(seed.hostedZones, app.dns?.zone);
    addUnique(seed.kubernetesVersions, app.cluster.kubernetesVersion);
    for (const admin of app.cluster.admins) addUnique(seed.iamPrincipals, admin);
    for (const service of Object.values(app.services)) {
      for (const listener of service.loadBalancer?.listeners ?? [])
        addUnique(seed.certificateDomains, listener.certificate);
    }
    for (const component of Object.values(app.components)) {
      for (const container of component.containers) {
        for (const ref of Object.values(container.envFromSecrets)) {
          const hash = ref.lastIndexOf("#");
          const name = ref.slice(0, hash);
          const keys = secrets.get(name) ?? [];
          addUnique(keys, ref.slice(hash + 1));
          secrets.set(name, keys);
        }
      }
    }
  }
  seed.secrets = [...secrets.entries()].map(([name, keys]) => ({ name, keys }));
  return seed;
}
