import { hostname } from "node:os";
import type { Aws } from "../../aws/create-aws.js";
import { pidAlive } from "../../history/common.js";
import type { Lease, RunRecord } from "../../history/types.js";
import type { KubeClient, KubeResource } from "../../kube/client.js";
import { connectCluster } from "../../kube/cluster-access.js";
import type { ClusterView as WatchView } from "../../kube/watch/verdict.js";
import { judgeDaemonSet } from "../../kube/watch/watch-daemonset.js";
import { judgeDeployment } from "../../kube/watch/watch-deployment.js";
import { POOL_LABEL } from "../../plan/aws.js";
import type { AutoScalingGroup } from "../../plan/aws-types.js";
import { APP_LABEL, VERSION_ANNOTATION } from "../../plan/kubernetes.js";
import { COLOURS, type Colour } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { decideLiveColour, type LiveColour } from "../decide/live-colour.js";
import { isSchedulableReady } from "../steps/kube/wait-for-nodes.js";
import { type ColourState, colourPlans, observeApp } from "./live-state.js";

/** What a colour's cluster says of it, when it could be read. */
export interface ClusterView {
  /** The version its Deployments run (their annotation), or undefined when they disagree. */
  version: string | undefined;
  workloads: { ready: number; desired: number; notReady: string[] };
  nodes: { ready: number; total: number };
  /** Nodes Ready by pool (the node label kubecontrol.io/pool). */
  pools?: Record<string, { ready: number; total: number }>;
}

/** One node pool of a colour as its Auto Scaling group says: capacity type, desired and running instances. */
export interface PoolStatus {
  pool: string;
  capacity: "on-demand" | "spot";
  desired: number;
  inService: number;
}

/** One colour as status shows it: what AWS says, and what its cluster says when it can be read. */
export interface ColourStatus extends ColourState {
  view?: ClusterView;
  /** Each pool's Auto Scaling group (a pool whose group is gone is left out). */
  pools?: PoolStatus[];
  /** The load balancer's targets across the colour's target groups. */
  targets?: { healthy: number; total: number };
  /** Why the cluster could not be read. */
  unreadable?: string;
}

/** One word for how an app is: see judgeHealth. */
export type Health = "healthy" | "degraded" | "deploying" | "failed" | "absent" | "unknown";

export interface AppStatus {
  app: string;
  health: Health;
  /** What makes it less than healthy, in words. */
  problems: string[];
  live: LiveColour | undefined;
  dnsName: string | undefined;
  colours: Record<Colour, ColourStatus> | undefined;
  /**
   * Who holds the app's lease (a run acting on it), if anyone does; `holderGone` when its
   * process is known dead (on this host): a killed run, which the next one takes over.
   */
  lease:
    | (Pick<Lease, "owner" | "host" | "pid" | "acquiredAt" | "expiresAt"> & { holderGone: boolean })
    | undefined;
  lastRun:
    | Pick<RunRecord, "id" | "command" | "result" | "version" | "who" | "startedAt" | "error">
    | undefined;
  /** How far the live colour's version is behind the head of the app's source, when known. */
  source?: { head: string; behind: number } | undefined;
  /** When it was read. */
  readAt: number;
  /** Why the app could not be read at all (health unknown). */
  error?: string;
}

/** What judging an app's health reads: everything but the health itself. */
export type AppFacts = Omit<AppStatus, "health" | "problems">;

/**
 * One word of health, decided from what was read (pure):
 * - `unknown`: it could not be read;
 * - `deploying`: a run holds its lease;
 * - `absent`: nothing of it stands and DNS gives no weight (never deployed, or destroyed);
 * - `failed`: nothing serves though a colour stands (an unfinished create), or DNS points at a
 *   colour whose cluster is gone;
 * - `degraded`: a colour serves, but not every workload is ready, its cluster is not ACTIVE or
 *   cannot be read, traffic is split, or which colour serves is unclear;
 * - `healthy`: one colour serves from an ACTIVE cluster and every workload is ready.
 */
export function judgeHealth(f: AppFacts, now = Date.now()): { health: Health; problems: string[] } {
  if (f.error || !f.live || !f.colours) return { health: "unknown", problems: [f.error ?? "not read"] };
  const held = f.lease !== undefined && f.lease.expiresAt > now;
  const running = held && !f.lease!.holderGone;
  const lease = !held
    ? []
    : running
      ? [`${f.lease!.owner} holds the lease (pid ${f.lease!.pid} on ${f.lease!.host})`]
      : [
          `the run of ${f.lease!.owner} that held the lease is gone (pid ${f.lease!.pid}): run it again to finish`,
        ];
  const served = judgeServing(f.live, f.colours);
  // What serves comes first: a run under way does not hide a broken live colour.
  if (running && (served.health === "healthy" || served.health === "absent" || served.health === "failed"))
    return { health: "deploying", problems: [...lease, ...served.problems] };
  return { health: served.health, problems: [...served.problems, ...lease] };
}

/** How the app serves, from what stands alone. */
function judgeServing(
  live: LiveColour,
  colours: Record<Colour, ColourStatus>,
): { health: Health; problems: string[] } {
  if (live.kind === "none")
    return live.standing.length === 0
      ? { health: "absent", problems: [] }
      : {
          health: "failed",
          problems: [`${live.why}, though ${live.standing.join(" and ")} stands: an unfinished create?`],
        };
  if (live.kind === "unclear") return { health: "degraded", problems: [live.why] };
  if (live.clusterMissing)
    return { health: "failed", problems: [`DNS sends traffic to ${live.colour}, which has no cluster`] };
  const c = colours[live.colour];
  const problems: string[] = [];
  if (c.cluster && c.cluster.status !== "ACTIVE")
    problems.push(`cluster ${c.cluster.name} is ${c.cluster.status}`);
  if (c.unreadable) problems.push(`${live.colour}'s cluster could not be read: ${c.unreadable}`);
  const w = c.view?.workloads;
  if (w && w.desired === 0) problems.push(`no workloads of the app on ${live.colour}'s cluster`);
  if (w && w.ready < w.desired)
    problems.push(`${w.ready} of ${w.desired} workloads ready (${w.notReady.join(", ")})`);
  const t = c.targets;
  if (t && t.healthy < t.total) problems.push(`${t.healthy} of ${t.total} load balancer targets healthy`);
  for (const p of c.pools ?? []) {
    const ready = c.view?.pools?.[p.pool]?.ready;
    if (ready !== undefined && ready < p.desired)
      problems.push(`pool ${p.pool}: ${ready} of ${p.desired} nodes Ready`);
  }
  if (live.shifting) problems.push(`traffic is split: ${live.colour} has ${live.weight}`);
  return { health: problems.length ? "degraded" : "healthy", problems };
}

/**
 * What the watch's judges see when only the objects' status is read (no pods, no ReplicaSets):
 * a workload is then judged as `kubectl rollout status` judges it, from its status alone.
 */
const STATUS_ONLY: WatchView = {
  object: () => undefined,
  pods: () => [],
  replicaSets: () => [],
  endpointSlices: () => [],
  node: () => undefined,
  nodes: () => [],
  now: () => Date.now(),
};

/**
 * A workload rolled out, judged by the same rules as verification (judgeDeployment,
 * judgeDaemonSet) from its status: its current revision observed, on every replica with no old
 * pod left, each available, its progress deadline not passed; a DaemonSet updated and available
 * on every node it should run on.
 */
export function workloadReady(w: KubeResource, kind: "Deployment" | "DaemonSet"): boolean {
  const judge = kind === "Deployment" ? judgeDeployment : judgeDaemonSet;
  return judge(w, STATUS_ONLY, { graceMs: 0 }).state === "succeeded";
}

/** What a colour's cluster says: its workloads (rolled out, available; the version they run) and nodes. */
async function viewCluster(client: KubeClient, app: string, signal: AbortSignal): Promise<ClusterView> {
  const list = (path: string) =>
    client.request<{ items: KubeResource[] }>("GET", path, {
      query: { labelSelector: `${APP_LABEL}=${app}` },
      signal,
    });
  const ns = encodeURIComponent(app);
  const [deployments, daemonSets, nodes] = await Promise.all([
    list(`/apis/apps/v1/namespaces/${ns}/deployments`),
    list(`/apis/apps/v1/namespaces/${ns}/daemonsets`),
    client.request<{ items: KubeResource[] }>("GET", "/api/v1/nodes", {
      query: { labelSelector: POOL_LABEL },
      signal,
    }),
  ]);
  const workloads = [
    ...deployments.items.map((w) => ({
      ref: `deployment/${w.metadata?.name}`,
      ready: workloadReady(w, "Deployment"),
    })),
    ...daemonSets.items.map((w) => ({
      ref: `daemonset/${w.metadata?.name}`,
      ready: workloadReady(w, "DaemonSet"),
    })),
  ];
  // The app's own Deployments carry the version; the company's add-ons (the metrics agent) do not.
  const versions = new Set(
    deployments.items.flatMap((d) => d.metadata?.annotations?.[VERSION_ANNOTATION] ?? []),
  );
  return {
    version: versions.size === 1 ? [...versions][0] : undefined,
    workloads: {
      ready: workloads.filter((w) => w.ready).length,
      desired: workloads.length,
      notReady: workloads.filter((w) => !w.ready).map((w) => w.ref),
    },
    nodes: { ready: nodes.items.filter(isSchedulableReady).length, total: nodes.items.length },
    pools: nodesByPool(nodes.items),
  };
}

function nodesByPool(nodes: KubeResource[]): Record<string, { ready: number; total: number }> {
  const pools: Record<string, { ready: number; total: number }> = {};
  for (const n of nodes) {
    const pool = n.metadata?.labels?.[POOL_LABEL];
    if (!pool) continue;
    pools[pool] ??= { ready: 0, total: 0 };
    const p = pools[pool];
    p.total++;
    if (isSchedulableReady(n)) p.ready++;
  }
  return pools;
}

/**
 * What AWS says of a colour beyond its cluster: each pool's Auto Scaling group and the health of
 * its load balancer's targets. Read once per colour; a read that fails leaves the part out.
 */
async function awsView(aws: Aws, plan: Plan): Promise<Pick<ColourStatus, "pools" | "targets">> {
  const groups = plan.aws.filter((r): r is AutoScalingGroup => r.kind === "auto-scaling-group");
  const targetGroups = plan.aws.filter((r) => r.kind === "target-group").map((r) => r.name);
  const [found, targets] = await Promise.all([
    aws.autoscaling.describeGroups(groups.map((g) => g.name)).catch(() => undefined),
    targetHealth(aws, targetGroups).catch(() => undefined),
  ]);
  const pools = found
    ? groups.flatMap((g): PoolStatus[] => {
        const asg = found.find((x) => x.AutoScalingGroupName === g.name);
        if (!asg) return [];
        return [
          {
            pool: g.properties.pool,
            capacity: g.properties.onDemandBase >= g.properties.max ? "on-demand" : "spot",
            desired: asg.DesiredCapacity ?? 0,
            inService: (asg.Instances ?? []).filter((i) => i.LifecycleState === "InService").length,
          },
        ];
      })
    : undefined;
  return { ...(pools ? { pools } : {}), ...(targets ? { targets } : {}) };
}

async function targetHealth(
  aws: Aws,
  names: string[],
): Promise<{ healthy: number; total: number } | undefined> {
  if (names.length === 0) return undefined;
  const groups = await aws.elbv2.targetGroupsHealth(names);
  return {
    healthy: groups.reduce((n, g) => n + g.healthy, 0),
    total: groups.reduce((n, g) => n + g.total, 0),
  };
}

/**
 * Reads an app as it is now, read-only: both colours (cluster, weight, and from each ACTIVE
 * cluster its workloads, version and nodes), which colour serves, and the store's lease and last
 * run. A colour whose cluster cannot be read is shown as such; nothing here throws for one.
 */
export async function readAppStatus(
  app: ResolvedKubeApp,
  aws: Aws,
  o: {
    lease: () => Promise<Lease | undefined>;
    lastRun: () => Promise<RunRecord | undefined>;
    awsEndpoint?: string | undefined;
    requestTimeoutMs?: number;
    /** How long a colour's cluster may take to answer (default 10 s). */
    clusterReadMs?: number;
  },
): Promise<AppFacts> {
  const readAt = Date.now();
  const [state, lease, lastRun] = await Promise.all([observeApp(app, aws), o.lease(), o.lastRun()]);
  const plans = colourPlans(app);
  /** What an ACTIVE colour's cluster says; one try, bounded: one that does not answer is unreadable. */
  const readCluster = async (colour: Colour): Promise<Pick<ColourStatus, "view" | "unreadable">> => {
    const c = state.colours[colour].cluster;
    if (c?.status !== "ACTIVE" || !c.endpoint) return {};
    const client = await connectCluster({
      clusterName: plans[colour].cluster,
      region: plans[colour].region,
      endpoint: { name: plans[colour].cluster, ...c.endpoint },
      ...(o.awsEndpoint ? { awsEndpoint: o.awsEndpoint } : {}),
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    }).catch((err: unknown) => err as Error);
    if (client instanceof Error) return { unreadable: client.message };
    try {
      return { view: await viewCluster(client, app.name, AbortSignal.timeout(o.clusterReadMs ?? 10_000)) };
    } catch (err) {
      return { unreadable: (err as Error).message };
    } finally {
      client.close();
    }
  };
  const colours = Object.fromEntries(
    await Promise.all(
      COLOURS.map(async (colour): Promise<[Colour, ColourStatus]> => {
        const seen = state.colours[colour];
        if (!seen.cluster) return [colour, seen];
        const [fromAws, fromCluster] = await Promise.all([awsView(aws, plans[colour]), readCluster(colour)]);
        return [colour, { ...seen, ...fromAws, ...fromCluster }];
      }),
    ),
  ) as Record<Colour, ColourStatus>;
  return {
    app: app.name,
    live: decideLiveColour(state),
    dnsName: state.dnsName,
    colours,
    lease: lease && {
      owner: lease.owner,
      host: lease.host,
      pid: lease.pid,
      acquiredAt: lease.acquiredAt,
      expiresAt: lease.expiresAt,
      holderGone: lease.host === hostname() && !pidAlive(lease.pid),
    },
    lastRun: lastRun && {
      id: lastRun.id,
      command: lastRun.command,
      result: lastRun.result,
      version: lastRun.version,
      who: lastRun.who,
      startedAt: lastRun.startedAt,
      error: lastRun.error,
    },
    readAt,
  };
}

/**
 * readAppStatus judged, within `timeoutMs`: an app that cannot be read, or is slow, is an
 * AppStatus of health `unknown` saying why, never an error.
 */
export async function readAppStatusWithin(
  app: ResolvedKubeApp,
  aws: Aws,
  o: Parameters<typeof readAppStatus>[2],
  timeoutMs: number,
): Promise<AppStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not read within ${timeoutMs / 1000}s`)), timeoutMs);
  });
  const facts: AppFacts = await Promise.race([readAppStatus(app, aws, o), timeout])
    .catch((err: unknown) => unreadableFacts(app.name, (err as Error).message))
    .finally(() => clearTimeout(timer));
  return { ...facts, ...judgeHealth(facts) };
}

/** What is known of an app that could not be read: only why (its health is `unknown`). */
export function unreadableFacts(app: string, error: string): AppFacts {
  return {
    app,
    live: undefined,
    dnsName: undefined,
    colours: undefined,
    lease: undefined,
    lastRun: undefined,
    readAt: Date.now(),
    error,
  };
}
