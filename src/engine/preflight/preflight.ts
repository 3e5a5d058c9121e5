import type { Aws } from "../../aws/create-aws.js";
import { isKubecontrolError, KubecontrolError } from "../../errors.js";
import type { EventSink } from "../../io/events.js";
import { resolveSecretRefs, secretRefs } from "../../kube/env-secret.js";
import type { Plan } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { findNetwork, type Network } from "../steps/aws/find-network.js";
import { deployerPrincipal } from "../workflows/deployer-access.js";
import { checkQuotas, describeUse, exceeded, increaseHint, type QuotaUse } from "./quotas.js";

/** One thing preflight found wrong, and what to do about it. */
export interface PreflightProblem {
  check: string;
  message: string;
  hint: string;
}

/** What preflight learned (the account, the network) when everything is in order. */
export interface PreflightReport {
  account: string;
  callerArn: string;
  /** The IAM principal the deployer's access entry names (an assumed role's real ARN, path included). */
  deployerArn: string;
  network: Network;
  /** The quotas the deployment needs more of: limit, in use, needed. */
  quotas: QuotaUse[];
  /** What preflight could not check, and why (a quota the caller may not read). */
  notes: string[];
}

function describe(err: unknown): string {
  return isKubecontrolError(err) ? err.message : String(err);
}

/**
 * Read-only checks before any change: credentials, VPC and subnets, the pools' instance types
 * in the nodes' zones, the AMI parameters, the hosted zone, the certificates, and the secrets
 * envFromSecrets reads (each exists and holds every referenced JSON key; a value is read to
 * look for its keys and never reported), and the quotas the colour would pass (load balancers,
 * EKS clusters, on-demand and spot vCPUs: in use plus what the plan adds, over the limit).
 * Throws PREFLIGHT_FAILED listing every problem; what it could not check is emitted as a warning.
 */
export async function preflightAws(
  plan: Plan,
  aws: Aws,
  app?: ResolvedKubeApp,
  emit?: EventSink,
): Promise<PreflightReport> {
  const problems: PreflightProblem[] = [];
  const attempt = async <T>(check: string, hint: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      problems.push({
        check,
        message: describe(err),
        hint: isKubecontrolError(err) && err.hint ? err.hint : hint,
      });
      return undefined;
    }
  };

  const identity = await attempt(
    "credentials",
    "set AWS_PROFILE or AWS credentials for the target account",
    () => aws.sts.callerIdentity(),
  );
  if (!identity) throw failed(problems);
  const network = await attempt("network", "fix network.vpc in the spec", () =>
    findNetwork(aws, plan.network),
  );
  for (const p of network?.problems ?? []) problems.push({ check: "network", ...p });

  for (const r of plan.aws) {
    if (r.kind === "auto-scaling-group" && network) {
      const offered = await attempt("instance types", "", () =>
        aws.ec2.instanceTypeOfferings(r.properties.instanceTypes),
      );
      for (const type of r.properties.instanceTypes) {
        const zones = new Set((offered ?? []).filter((o) => o.InstanceType === type).map((o) => o.Location));
        if (offered && !network.zones.some((z) => zones.has(z)))
          problems.push({
            check: "instance types",
            message: `instance type ${type} of pool ${r.properties.pool} is not offered in ${network.zones.join(", ")}`,
            hint: `pick instance types offered in ${plan.region} (aws ec2 describe-instance-type-offerings)`,
          });
      }
    }
    if (r.kind === "launch-template") {
      const ami = await attempt("AMI", "", () => aws.ssm.parameter(r.properties.amiParameter));
      if (ami === undefined && !problems.some((p) => p.check === "AMI"))
        problems.push({
          check: "AMI",
          message: `no EKS-optimized AMI parameter ${r.properties.amiParameter}`,
          hint: "use a Kubernetes version and architecture EKS publishes AMIs for",
        });
    }
    if (r.kind === "route53-record") {
      const zone = await attempt("hosted zone", "", () => aws.route53.findHostedZone(r.properties.zone));
      if (!zone)
        problems.push({
          check: "hosted zone",
          message: `no public hosted zone ${r.properties.zone} for ${r.properties.record}`,
          hint: `create the hosted zone ${r.properties.zone} in Route 53, or fix dns.zone in the spec`,
        });
    }
    if (r.kind === "listener" && r.properties.certificateDomain) {
      const domain = r.properties.certificateDomain;
      const arn = await attempt("certificate", "", () => aws.acm.certificateFor(domain));
      if (!arn)
        problems.push({
          check: "certificate",
          message: `no issued ACM certificate for ${domain} (listener ${r.properties.port})`,
          hint: `request and validate a certificate for ${domain} in ACM in ${plan.region}`,
        });
    }
  }
  if (app) await checkSecrets(app, aws, plan.region, problems);
  const quotas = await attempt("quotas", "check read access to EC2, ELB, EKS and Service Quotas", () =>
    checkQuotas(plan, aws),
  );
  for (const message of quotas?.notes ?? []) emit?.({ type: "log", at: Date.now(), level: "warn", message });
  for (const u of exceeded(quotas?.uses ?? []))
    problems.push({ check: "quotas", message: describeUse(u), hint: increaseHint(u) });
  const deployerArn = await attempt(
    "deployer",
    "the deployer's role must be readable with iam:GetRole (its ARN, path included, names its access entry)",
    () => deployerPrincipal(aws, identity.arn),
  );
  if (problems.length > 0 || !network || !deployerArn) throw failed(problems);
  return {
    account: identity.account,
    callerArn: identity.arn,
    deployerArn,
    network,
    quotas: quotas?.uses ?? [],
    notes: quotas?.notes ?? [],
  };
}

/**
 * Every envFromSecrets reference resolves: the secret exists (DescribeSecret; a missing one is
 * never read) and its JSON object has the key. Problems name the secret and key, not a value.
 */
async function checkSecrets(
  app: ResolvedKubeApp,
  aws: Aws,
  region: string,
  problems: PreflightProblem[],
): Promise<void> {
  const refs = secretRefs(app);
  if (refs.length === 0) return;
  try {
    const found = await resolveSecretRefs(
      refs,
      async (name) => ((await aws.secrets.exists(name)) ? aws.secrets.jsonObject(name) : undefined),
      region,
    );
    for (const p of found.problems) problems.push({ check: "secrets", message: p.message, hint: p.hint });
  } catch (err) {
    problems.push({
      check: "secrets",
      message: describe(err),
      hint: isKubecontrolError(err) && err.hint ? err.hint : "check access to Secrets Manager",
    });
  }
}

function failed(problems: PreflightProblem[]): KubecontrolError {
  const lines = problems.map((p) => `  ${p.check}: ${p.message}`).join("\n");
  return new KubecontrolError(
    "PREFLIGHT_FAILED",
    `preflight found ${problems.length} problem(s); nothing was changed:\n${lines}`,
    {
      hint: [...new Set(problems.map((p) => p.hint).filter(Boolean))].join("; "),
      details: { problems },
    },
  );
}
