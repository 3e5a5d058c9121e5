import type { NetworkInterface } from "@aws-sdk/client-ec2";
import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import { formatDuration } from "../../../io/format.js";
import { waitUntil } from "../../../wait.js";
import type { StepContext } from "../../step.js";
import { pollPace, type StackEnv, tagRecord } from "./stack-env.js";

/** The tag the VPC CNI gives each network interface it creates: its cluster's name. */
export const CNI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name";

/** How long a security group's deletion waits for network interfaces to let go of it, by default. */
export const INTERFACE_WAIT_MS = 10 * 60_000;

/** A deadline for a step that deletes a security group: its wait for interfaces has its own, with evidence. */
export function heldGroupTimeoutMs(env: Pick<StackEnv, "interfaceWaitMs">): number {
  return Math.max(20 * 60_000, (env.interfaceWaitMs ?? INTERFACE_WAIT_MS) + 5 * 60_000);
}

/** An interface the VPC CNI of `cluster` leaked: tagged with the cluster's name, attached to nothing. */
export function leakedBy(cluster: string, eni: NetworkInterface): boolean {
  return eni.Status === "available" && tagRecord(eni.TagSet)[CNI_CLUSTER_TAG] === cluster;
}

/** An interface in words: its id, description, status, and the cluster whose CNI made it. */
export function describeInterface(eni: NetworkInterface): string {
  const cluster = tagRecord(eni.TagSet)[CNI_CLUSTER_TAG];
  const facts = [
    eni.Description ? `"${eni.Description}"` : undefined,
    eni.Status,
    eni.RequesterManaged ? "requester-managed" : undefined,
    cluster ? `${CNI_CLUSTER_TAG}=${cluster}` : undefined,
  ].filter(Boolean);
  return `${eni.NetworkInterfaceId} (${facts.join(", ")})`;
}

/** An interface AWS made for a service and removes with it: a load balancer's, an EKS control plane's. */
function goesByItself(eni: NetworkInterface): boolean {
  return eni.RequesterManaged === true || /^(ELB |Amazon EKS )/.test(eni.Description ?? "");
}

/** A security group to delete once nothing uses it. */
export interface HeldGroup {
  groupId: string;
  /** In words: "security group kc-hello-blue-nodes". */
  what: string;
  /** Whose leaked interfaces may be deleted: the colour's cluster (none when unknown). */
  cluster: string | undefined;
  env: Pick<StackEnv, "pace" | "interfaceWaitMs">;
}

/**
 * Deletes a security group, waiting while network interfaces use it (DependencyViolation). A
 * load balancer's interfaces linger for minutes after it is deleted and go by themselves; those
 * the cluster's VPC CNI leaked (available, tagged with its name) never go, and are deleted here,
 * as the same poll's listing shows them (one attached since answers InvalidNetworkInterface.InUse
 * and is left). Any other interface is another's and never touched: past the wait (operator
 * setting interfaceWait), the error names each one that still holds the group.
 */
export async function deleteGroupOnceReleased(aws: Aws, g: HeldGroup, ctx: StepContext): Promise<void> {
  const waitMs = g.env.interfaceWaitMs ?? INTERFACE_WAIT_MS;
  let holders: NetworkInterface[] = [];
  try {
    await waitUntil(
      async () => {
        try {
          await aws.ec2.deleteSecurityGroup(g.groupId, g.what);
          return { done: true, value: true };
        } catch (err) {
          if (hasCode(err, "InvalidGroup.NotFound")) return { done: true, value: true };
          if (!hasCode(err, "DependencyViolation")) throw err;
        }
        holders = await aws.ec2.networkInterfacesUsing(g.groupId, `network interfaces in ${g.what}`);
        const removed = new Set<string>();
        for (const eni of holders.filter((x) => g.cluster && leakedBy(g.cluster, x)))
          if (await removeLeaked(aws, eni, g, ctx)) removed.add(eni.NetworkInterfaceId!);
        holders = holders.filter((x) => !removed.has(x.NetworkInterfaceId!));
        return {
          done: false,
          state: holders.length
            ? `${g.what} to be let go by ${interfaces(holders)}`
            : `${g.what} to be let go (DependencyViolation${removed.size ? ", leaked interfaces just deleted" : ""})`,
        };
      },
      {
        what: `${g.what} to be let go`,
        timeoutMs: waitMs,
        signal: ctx.signal,
        ...pollPace(g.env),
        onPoll: (state) => ctx.waiting(state),
      },
    );
  } catch (err) {
    if (!(err instanceof KubecontrolError) || err.code !== "TIMEOUT") throw err;
    throw heldError(g, holders, waitMs, err);
  }
}

const interfaces = (holders: NetworkInterface[]) =>
  `network interface${holders.length === 1 ? "" : "s"} ${holders.map(describeInterface).join(", ")}`;

/** Deletes one leaked interface: true once it is gone, false when it was attached meanwhile (it then holds the group like any other). */
async function removeLeaked(
  aws: Aws,
  eni: NetworkInterface,
  g: HeldGroup,
  ctx: StepContext,
): Promise<boolean> {
  const id = eni.NetworkInterfaceId!;
  try {
    await aws.ec2.deleteNetworkInterface(id, `network interface ${id}`);
  } catch (err) {
    if (hasCode(err, "InvalidNetworkInterfaceID.NotFound")) return true;
    if (hasCode(err, "InvalidNetworkInterface.InUse")) return false;
    throw err;
  }
  ctx.log(
    "info",
    `deleted network interface ${id} that the VPC CNI of cluster ${g.cluster} leaked (available, in ${g.what})`,
  );
  return true;
}

/** Why the group is still held, and what to do: evidence for each interface that holds it. */
function heldError(g: HeldGroup, holders: NetworkInterface[], waitMs: number, cause: KubecontrolError) {
  const after = `after ${formatDuration(waitMs)}`;
  if (!holders.length)
    return new KubecontrolError(
      "TIMEOUT",
      `${g.what} is still in use (DependencyViolation) ${after}, though no network interface uses it: a rule of another security group names it`,
      {
        cause,
        retryable: true,
        hint: `find the rule (aws ec2 describe-security-groups --filters Name=ip-permission.group-id,Values=${g.groupId}) and have its owner remove it, then run the same command again`,
      },
    );
  const lingering = holders.some(goesByItself);
  const others = holders.some((x) => !goesByItself(x));
  const hint = [
    lingering
      ? "interfaces AWS manages (a load balancer's, an EKS control plane's) go by themselves within minutes of their owner's deletion: run the same command again later"
      : undefined,
    others
      ? `kubecontrol deletes only the interfaces the VPC CNI of ${g.cluster ?? "the colour's cluster"} leaked (available, tagged ${CNI_CLUSTER_TAG}=${g.cluster ?? "<cluster>"}); any other is not this colour's to delete: find whose it is, have it deleted or moved to another group, then run the same command again`
      : undefined,
    `see them: aws ec2 describe-network-interfaces --filters Name=group-id,Values=${g.groupId}`,
    "to wait longer, raise the operator setting interfaceWait ($KUBECONTROL_INTERFACE_WAIT)",
  ];
  return new KubecontrolError("TIMEOUT", `${g.what} is still used by ${interfaces(holders)} ${after}`, {
    cause,
    retryable: true,
    hint: hint.filter(Boolean).join("; "),
    details: { group: g.groupId, interfaces: holders.map((x) => x.NetworkInterfaceId) },
  });
}
