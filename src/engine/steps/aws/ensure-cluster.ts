import type { Cluster } from "@aws-sdk/client-eks";
import type { Aws } from "../../../aws/create-aws.js";
import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { EksCluster } from "../../../plan/aws-types.js";
import { waitUntil } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { ensureName, FIND_NETWORK, networkOf, pollPace, resultOf, type StackEnv } from "./stack-env.js";

/** What the launch template and the Kubernetes steps need of a cluster. */
export interface ClusterRef {
  name: string;
  arn: string;
  endpoint: string;
  certificateAuthority: string;
  serviceCidr: string;
}

/** An ACTIVE cluster as later steps see it. */
export function clusterRef(c: Cluster): ClusterRef {
  return {
    name: c.name!,
    arn: c.arn!,
    endpoint: c.endpoint!,
    certificateAuthority: c.certificateAuthority?.data ?? "",
    serviceCidr: c.kubernetesNetworkConfig?.serviceIpv4Cidr ?? "10.100.0.0/16",
  };
}

/** Waits until the cluster is ACTIVE (a real one takes about ten minutes), with a heartbeat. */
export async function waitForClusterActive(
  aws: Aws,
  name: string,
  ctx: StepContext,
  env: StackEnv,
): Promise<ClusterRef> {
  const what = `cluster ${name} to be ACTIVE`;
  ctx.waiting(what);
  return waitUntil(
    async () => {
      const c = await aws.eks.describeCluster(name);
      if (!c) throw new KubecontrolError("AWS", `cluster ${name} disappeared while being created`);
      if (c.status === "FAILED")
        throw new KubecontrolError("AWS", `cluster ${name} failed to create`, {
          hint: "look at the cluster's health issues in the EKS console, fix, tear the colour down and retry",
        });
      if (c.status === "ACTIVE" && c.endpoint) return { done: true, value: clusterRef(c) };
      return { done: false, state: c.status ?? "unknown" };
    },
    {
      what,
      timeoutMs: 25 * 60_000,
      signal: ctx.signal,
      ...pollPace(env),
      onPoll: (s) => ctx.waiting(`${what} (${s})`),
    },
  );
}

/** Ensures the colour's EKS cluster, with API-only access entries and no creator admin. */
export function ensureClusterStep(
  r: EksCluster,
  env: StackEnv,
): Step<EnsureNeeded<Cluster, { endpoint: boolean }>, ClusterRef> {
  const { aws } = env;
  const p = r.properties;
  return ensureStep<Cluster, { endpoint: boolean }, ClusterRef>({
    r,
    env,
    description: `EKS cluster ${r.name} (Kubernetes ${p.kubernetesVersion})`,
    dependsOn: [FIND_NETWORK, ensureName(p.role), ...p.securityGroups.map(ensureName)],
    timeoutMs: 35 * 60_000,
    find: () => aws.eks.describeCluster(r.name),
    tagsOf: (c) => c.tags,
    leaving: (c) => c.status === "DELETING",
    diff(_ctx, c) {
      if (c?.status === "FAILED")
        throw new KubecontrolError("PRECONDITION", `cluster ${r.name} is FAILED`, {
          hint: `tear down colour ${r.tags["kubecontrol:colour"]} and create it again`,
        });
      if (c && c.version !== p.kubernetesVersion)
        throw new KubecontrolError(
          "PRECONDITION",
          `cluster ${r.name} runs Kubernetes ${c.version}, the plan wants ${p.kubernetesVersion}`,
          { hint: "a version change is a blue/green update to the other colour, not an in-place change" },
        );
      // Only an ACTIVE cluster takes a change: one still CREATING or UPDATING is waited for.
      const vpc = c?.status === "ACTIVE" ? c.resourcesVpcConfig : undefined;
      return {
        endpoint:
          vpc !== undefined &&
          (vpc.endpointPublicAccess !== p.endpointPublicAccess ||
            vpc.endpointPrivateAccess !== p.endpointPrivateAccess),
      };
    },
    create: async (ctx, tags) =>
      (await aws.eks.createCluster({
        name: r.name,
        version: p.kubernetesVersion,
        roleArn: resultOf(ctx, p.role).arn,
        resourcesVpcConfig: {
          subnetIds: networkOf(ctx).clusterSubnets,
          securityGroupIds: p.securityGroups.map((g) => resultOf(ctx, g).id),
          endpointPublicAccess: p.endpointPublicAccess,
          endpointPrivateAccess: p.endpointPrivateAccess,
        },
        accessConfig: {
          authenticationMode: p.authenticationMode,
          bootstrapClusterCreatorAdminPermissions: p.bootstrapClusterCreatorAdminPermissions,
        },
        tags,
      })) ?? { name: r.name },
    alreadyExists: ["ResourceInUseException"],
    // A role made seconds ago is not yet assumable by EKS: IAM is eventually consistent.
    notYet: (err) => hasCode(err, "InvalidParameterException") && /assum|role/i.test(awsErrorMessage(err)),
    tag: (_ctx, c, tags) => aws.eks.tagResource(c.arn!, tags, `cluster ${r.name}`),
    async change(_ctx, _c, d) {
      if (d.endpoint)
        await aws.eks.updateClusterConfig({
          name: r.name,
          resourcesVpcConfig: {
            endpointPublicAccess: p.endpointPublicAccess,
            endpointPrivateAccess: p.endpointPrivateAccess,
          },
        });
    },
    ref: clusterRef,
    pending: (c) => (c.status === "ACTIVE" ? undefined : (c.status ?? "")),
    wait: (ctx) => waitForClusterActive(aws, r.name, ctx, env),
    inPlace: () => "ACTIVE",
    summary: (ref) => ref.endpoint,
  });
}
