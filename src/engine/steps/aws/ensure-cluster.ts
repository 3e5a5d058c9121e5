import type { Cluster } from "@aws-sdk/client-eks";
import type { Aws } from "../../../aws/create-aws.js";
import { awsErrorMessage, hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import type { EksCluster } from "../../../plan/aws-types.js";
import { waitUntil } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  FIND_NETWORK,
  networkOf,
  ownedFind,
  pollPace,
  resultOf,
  retryEventual,
  type StackEnv,
} from "./stack-env.js";

/** What the launch template and the Kubernetes steps need of a cluster. */
export interface ClusterRef {
  name: string;
  arn: string;
  endpoint: string;
  certificateAuthority: string;
  serviceCidr: string;
}

type Needed =
  | { action: "create" }
  | { action: "wait" }
  | { action: "recreate" }
  | { action: "update"; endpoint: boolean; tags: Record<string, string>; arn: string };

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
export function ensureClusterStep(r: EksCluster, env: StackEnv): Step<Needed, ClusterRef | undefined> {
  const { aws } = env;
  const p = r.properties;
  return awsStep<Needed, ClusterRef | undefined>({
    name: ensureName(r.id),
    description: `EKS cluster ${r.name} (Kubernetes ${p.kubernetesVersion})`,
    dependsOn: [FIND_NETWORK, ensureName(p.role), ...p.securityGroups.map(ensureName)],
    timeoutMs: 35 * 60_000,
    async check() {
      const c = await aws.eks.describeCluster(r.name);
      if (!c) return { satisfied: false, reason: "missing", needed: { action: "create" } };
      if (c.status === "DELETING")
        return { satisfied: false, reason: "being deleted", needed: { action: "recreate" } };
      if (c.status === "FAILED")
        throw new KubecontrolError("PRECONDITION", `cluster ${r.name} is FAILED`, {
          hint: `tear down colour ${r.tags["kubecontrol:colour"]} and create it again`,
        });
      if (c.version !== p.kubernetesVersion)
        throw new KubecontrolError(
          "PRECONDITION",
          `cluster ${r.name} runs Kubernetes ${c.version}, the plan wants ${p.kubernetesVersion}`,
          { hint: "a version change is a blue/green update to the other colour, not an in-place change" },
        );
      if (c.status !== "ACTIVE")
        return { satisfied: false, reason: c.status ?? "", needed: { action: "wait" } };
      const vpc = c.resourcesVpcConfig;
      const endpoint =
        vpc?.endpointPublicAccess !== p.endpointPublicAccess ||
        vpc?.endpointPrivateAccess !== p.endpointPrivateAccess;
      const tags = claimTags(r, c.tags ?? {}, env);
      if (!endpoint && Object.keys(tags).length === 0)
        return { satisfied: true, reason: "ACTIVE", value: clusterRef(c) };
      return {
        satisfied: false,
        reason: "differs",
        needed: { action: "update", endpoint, tags, arn: c.arn! },
      };
    },
    async apply(ctx, n) {
      if (n.action === "wait") return undefined;
      if (n.action === "update") {
        if (Object.keys(n.tags).length) await aws.eks.tagResource(n.arn, n.tags, `cluster ${r.name}`);
        if (n.endpoint)
          await aws.eks.updateClusterConfig({
            name: r.name,
            resourcesVpcConfig: {
              endpointPublicAccess: p.endpointPublicAccess,
              endpointPrivateAccess: p.endpointPrivateAccess,
            },
          });
        return undefined;
      }
      if (n.action === "recreate") {
        ctx.waiting(`cluster ${r.name} to finish deleting`);
        await waitUntil(
          async () =>
            (await aws.eks.describeCluster(r.name))
              ? { done: false, state: "DELETING" }
              : { done: true, value: 0 },
          {
            what: `cluster ${r.name} to be deleted`,
            timeoutMs: 20 * 60_000,
            signal: ctx.signal,
            ...pollPace(env),
          },
        );
      }
      const net = networkOf(ctx);
      const role = resultOf(ctx, p.role);
      const groups = p.securityGroups.map((g) => resultOf(ctx, g).id);
      const create = () =>
        aws.eks.createCluster({
          name: r.name,
          version: p.kubernetesVersion,
          roleArn: role.arn,
          resourcesVpcConfig: {
            subnetIds: net.clusterSubnets,
            securityGroupIds: groups,
            endpointPublicAccess: p.endpointPublicAccess,
            endpointPrivateAccess: p.endpointPrivateAccess,
          },
          accessConfig: {
            authenticationMode: p.authenticationMode,
            bootstrapClusterCreatorAdminPermissions: p.bootstrapClusterCreatorAdminPermissions,
          },
          tags: creationTags(r.tags, env.runId),
        });
      // A role made seconds ago is not yet assumable by EKS: IAM is eventually consistent.
      await retryEventual(
        ctx,
        `create cluster ${r.name}`,
        () =>
          createOrAdopt(
            create,
            ownedFind(
              () => aws.eks.describeCluster(r.name),
              (c) => c.tags,
              r,
              env,
            ),
            ["ResourceInUseException"],
          ),
        (err) => hasCode(err, "InvalidParameterException") && /assum|role/i.test(awsErrorMessage(err)),
      );
      return undefined;
    },
    wait: (ctx) => waitForClusterActive(aws, r.name, ctx, env),
    summarize: (changed, ref) => `${changed ? "ready" : "found"} ${ref?.endpoint ?? r.name}`,
  });
}
