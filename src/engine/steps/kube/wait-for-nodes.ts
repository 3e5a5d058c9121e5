import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import type { KubeClient, KubeResource } from "../../../kube/client.js";
import { POOL_LABEL } from "../../../plan/aws.js";
import type { AutoScalingGroup } from "../../../plan/aws-types.js";
import { convergeStep } from "../../converge.js";
import type { Step } from "../../step.js";

/** The step that waits for every pool's nodes to be Ready. */
export const WAIT_FOR_NODES = "wait-for-nodes";

/** One pool as its Auto Scaling Group is planned. */
export interface NodePool {
  pool: string;
  /** The Auto Scaling Group's name. */
  group: string;
  min: number;
}

/** What one pool has: the nodes it needs (max of min and the group's desired capacity) and those Ready. */
export interface PoolNodes {
  pool: string;
  wanted: number;
  registered: number;
  ready: number;
  /** Instances the group has (any lifecycle state). */
  instances: number;
  /** Registered nodes that are not Ready, with their Ready condition's reason. */
  notReady: string[];
}

function readyCondition(node: KubeResource): { status?: string; reason?: string; message?: string } {
  const conditions = (node.status as { conditions?: { type: string; status?: string }[] } | undefined)
    ?.conditions;
  return conditions?.find((c) => c.type === "Ready") ?? {};
}

/** A node that is Ready and takes pods (not cordoned, not being deleted). */
export function isSchedulableReady(node: KubeResource): boolean {
  if (node.metadata?.deletionTimestamp) return false;
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) return false;
  return readyCondition(node).status === "True";
}

/** Each pool's nodes as the cluster and its Auto Scaling Group see them now. */
export async function poolNodes(pools: NodePool[], aws: Aws, client: KubeClient): Promise<PoolNodes[]> {
  const [groups, list] = await Promise.all([
    aws.autoscaling.describeGroups(pools.map((p) => p.group)),
    client.request<{ items?: KubeResource[] }>("GET", "/api/v1/nodes", {
      query: { labelSelector: POOL_LABEL },
    }),
  ]);
  const nodes = list.items ?? [];
  return pools.map((p) => {
    const group = groups.find((g) => g.AutoScalingGroupName === p.group);
    const mine = nodes.filter((n) => n.metadata?.labels?.[POOL_LABEL] === p.pool);
    const ready = mine.filter(isSchedulableReady);
    return {
      pool: p.pool,
      // Desired capacity is the operator's (or an autoscaler's) after creation: wait for what it is now.
      wanted: Math.max(p.min, group?.DesiredCapacity ?? p.min),
      registered: mine.length,
      ready: ready.length,
      instances: group?.Instances?.length ?? 0,
      notReady: mine
        .filter((n) => !isSchedulableReady(n))
        .map((n) => {
          const c = readyCondition(n);
          const why = n.metadata?.deletionTimestamp
            ? "being deleted"
            : (n.spec as { unschedulable?: boolean } | undefined)?.unschedulable
              ? "cordoned"
              : `Ready=${c.status ?? "Unknown"}${c.reason ? ` (${c.reason})` : ""}`;
          return `${n.metadata?.name} ${why}`;
        }),
    };
  });
}

/** "1 of 2 nodes of pool general (1 Ready)": what is still awaited; undefined when every pool has its nodes. */
export function nodesWaitingFor(state: PoolNodes[]): string | undefined {
  const short = state.filter((s) => s.ready < s.wanted);
  if (short.length === 0) return undefined;
  return short
    .map((s) => `${s.wanted - s.ready} of ${s.wanted} nodes of pool ${s.pool} (${s.ready} Ready)`)
    .join("; ");
}

/** What each pool short of Ready nodes has, for the timeout's message. */
export function nodesEvidence(state: PoolNodes[]): string {
  return state
    .filter((s) => s.ready < s.wanted)
    .map(
      (s) =>
        `pool ${s.pool}: ${s.ready} of ${s.wanted} nodes Ready, ${s.registered} registered, ${s.instances} instance(s) in its Auto Scaling Group${s.notReady.length ? `; ${s.notReady.slice(0, 5).join(", ")}` : ""}${s.instances > s.registered ? `; ${s.instances - s.registered} instance(s) never registered: their kubelet did not start or could not join (a node label or taint it refuses, the node role's access entry, the cluster's endpoint from the subnets)` : ""}`,
    )
    .join("; ");
}

/**
 * The groups' scaling activities since `since` that failed or were cancelled, newest first: where
 * AWS says why an instance was not launched (a vCPU quota, no spot capacity, a bad launch
 * template). Empty when none did; a failure to read them is said, never thrown over the timeout.
 */
export async function scalingEvidence(aws: Aws, groups: string[], since = new Date(0)): Promise<string> {
  const lines = await Promise.all(
    groups.map(async (group) => {
      try {
        const failed = (await aws.autoscaling.scalingActivities(group)).filter(
          (a) =>
            (a.StatusCode === "Failed" || a.StatusCode === "Cancelled") &&
            (a.StartTime === undefined || a.StartTime >= since),
        );
        return failed
          .slice(0, 3)
          .map((a) => `group ${group}: ${a.StatusCode}: ${a.StatusMessage ?? a.Description ?? ""}`.trim());
      } catch (err) {
        return [`group ${group}: scaling activities could not be read (${(err as Error).message})`];
      }
    }),
  );
  return lines.flat().join("; ");
}

/** Cluster errors while nodes join (access not yet in effect, API restarting) are waited out. */
function transient(err: unknown): boolean {
  return err instanceof KubecontrolError && err.code === "KUBE";
}

export interface WaitForNodesOptions {
  aws: Aws;
  /** The cluster's client, made once the cluster and the deployer's access exist. */
  client: () => Promise<KubeClient>;
  dependsOn: string[];
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Nodes Ready as a step of its own: every pool has at least max(min, the group's desired
 * capacity) nodes labelled with its pool that are Ready and schedulable. Nothing to apply: the
 * Auto Scaling Groups make the instances and they join by themselves; the wait says how many
 * of each pool it still waits for, and a timeout names what each pool has.
 */
export function waitForNodesStep(
  groups: AutoScalingGroup[],
  o: WaitForNodesOptions,
): Step<undefined, PoolNodes[]> {
  const pools: NodePool[] = groups.map((g) => ({
    pool: g.properties.pool,
    group: g.name,
    min: g.properties.min,
  }));
  const timeoutMs = o.timeoutMs ?? 15 * 60_000;
  let last: PoolNodes[] | undefined;
  return convergeStep<PoolNodes[]>({
    name: WAIT_FOR_NODES,
    description: `nodes Ready in pool${pools.length === 1 ? "" : "s"} ${pools.map((p) => p.pool).join(", ")}`,
    dependsOn: o.dependsOn,
    what: "nodes Ready",
    timeoutMs,
    pollMs: o.pollMs ?? 500,
    maxPollMs: 5_000,
    async look() {
      try {
        last = await poolNodes(pools, o.aws, await o.client());
      } catch (err) {
        if (!transient(err)) throw err;
        return { done: false, state: `the cluster to answer (${(err as Error).message})` };
      }
      const waiting = nodesWaitingFor(last);
      return waiting ? { done: false, state: waiting } : { done: true, value: last };
    },
    async failed(err) {
      if (!(err instanceof KubecontrolError) || err.code !== "TIMEOUT" || !last) throw err;
      const short = new Set(last.filter((s) => s.ready < s.wanted).map((s) => s.pool));
      // Launches of this run (the groups may be older than the wait), not last week's.
      const activities = await scalingEvidence(
        o.aws,
        pools.filter((p) => short.has(p.pool)).map((p) => p.group),
        new Date(Date.now() - timeoutMs - 15 * 60_000),
      );
      throw new KubecontrolError(
        "TIMEOUT",
        `nodes did not become Ready within ${Math.round(timeoutMs / 1000)}s: ${nodesEvidence(last)}${activities ? `; scaling activities: ${activities}` : ""}`,
        {
          cause: err,
          retryable: true,
          hint: `see why instances did not join (aws autoscaling describe-scaling-activities --auto-scaling-group-name ${pools.map((p) => p.group).join(" / ")}; the node role's access entry; the nodes' conditions), then run the same command again to continue`,
        },
      );
    },
    summarize: (state) => (state ? summary(state) : "every pool has its nodes Ready"),
  });
}

function summary(state: PoolNodes[]): string {
  return state.map((s) => `pool ${s.pool}: ${s.ready} of ${s.wanted} nodes Ready`).join("; ");
}
