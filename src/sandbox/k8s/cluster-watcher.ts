import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { toKubecontrolError } from "../../errors.js";
import {
  adminKubeconfigPath,
  type ControlPlaneHost,
  createControlPlane,
  deleteControlPlane,
  listControlPlanes,
} from "./control-plane.js";
import type { MotoAdmin, SandboxEksCluster } from "./moto-admin.js";
import type { ControlPlaneStatus, WatcherStatus } from "./watcher-status.js";

const run = promisify(execFile);

export interface ClusterWatcherOptions {
  host: ControlPlaneHost;
  admin: MotoAdmin;
  /** Each control plane holds about 540 MB; past this many, new clusters wait with a clear error. */
  maxControlPlanes: number;
  /** At most this many kwokctl creates at once (each is CPU-heavy for a few seconds). */
  createConcurrency?: number;
  log(event: string, fields: Record<string, unknown>): void;
  onChange(status: WatcherStatus): void;
}

const LIVE = new Set(["CREATING", "ACTIVE", "UPDATING"]);
const MAX_BACKOFF_MS = 30_000;

/**
 * Level-triggered: each tick compares moto's EKS clusters with the running control planes and
 * starts, publishes or deletes what differs. A failed start is retried with capped backoff; an
 * unreachable moto changes nothing (control planes keep running) until it answers again.
 */
export class ClusterWatcher {
  readonly status: WatcherStatus;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly options: ClusterWatcherOptions) {
    const now = new Date().toISOString();
    this.status = {
      pid: process.pid,
      updatedAt: now,
      webhookUrl: options.host.webhookBaseUrl,
      moto: { ok: false, since: now, error: "not polled yet" },
      maxControlPlanes: options.maxControlPlanes,
      controlPlanes: {},
    };
  }

  /** One reconcile pass; never throws. */
  async tick(): Promise<void> {
    let clusters: SandboxEksCluster[];
    // What the list says is as of this moment: a control plane made ready since is newer.
    const listedAt = Date.now();
    try {
      clusters = await this.options.admin.listClusters();
      if (!this.status.moto.ok) this.status.moto = { ok: true, since: new Date().toISOString() };
    } catch (err) {
      if (this.status.moto.ok || this.status.moto.error === "not polled yet") {
        this.status.moto = {
          ok: false,
          since: new Date().toISOString(),
          error: toKubecontrolError(err).message,
        };
      }
      this.changed();
      return;
    }
    const wanted = new Map(clusters.filter((c) => LIVE.has(c.status)).map((c) => [c.name, c]));
    const local = await listControlPlanes(this.options.host);
    for (const name of new Set([...local, ...Object.keys(this.status.controlPlanes)])) {
      if (!wanted.has(name) && !this.inFlight.has(name)) this.launch(name, () => this.remove(name));
    }
    for (const cluster of wanted.values()) {
      if (this.inFlight.has(cluster.name)) continue;
      const current = this.status.controlPlanes[cluster.name];
      if (current?.state === "ready") {
        // The endpoint published, not DescribeCluster's: that one is empty while the cluster is
        // CREATING (its creation delay may outlast the control plane's start), and comparing it
        // started a new control plane every tick until the cluster turned ACTIVE, leaving a
        // client that had the last-but-one endpoint without its cluster. A cluster made anew
        // under the name has nothing published.
        // A list read before this watcher published (the tick began while the start was in
        // flight) names nothing yet: that is not another endpoint either.
        const published = "publishedEndpoint" in cluster ? cluster.publishedEndpoint : cluster.endpoint;
        if (published !== current.endpoint && Date.parse(current.since) < listedAt)
          this.launch(cluster.name, () => this.republish(cluster.name));
        continue;
      }
      if ((this.retryAt.get(cluster.name) ?? 0) > Date.now()) continue;
      if (!current && local.includes(cluster.name)) {
        this.launch(cluster.name, () => this.adopt(cluster));
        continue;
      }
      if (this.liveCount() >= this.options.maxControlPlanes) {
        this.set(cluster.name, {
          state: "waiting-for-capacity",
          error:
            `${this.liveCount()} control planes already run (the cap is ${this.options.maxControlPlanes}, ` +
            "about 540 MB each); delete an EKS cluster or raise KUBECONTROL_SANDBOX_MAX_CONTROL_PLANES",
        });
        continue;
      }
      if (this.inFlight.size >= (this.options.createConcurrency ?? 2)) continue;
      this.launch(cluster.name, () => this.create(cluster.name));
    }
    this.changed();
  }

  /** Waits for in-flight work, then stops and removes every control plane (sandbox down). */
  async shutdown(): Promise<void> {
    await Promise.allSettled(this.inFlight.values());
    for (const name of await listControlPlanes(this.options.host)) {
      await deleteControlPlane(this.options.host, name).catch((err: unknown) =>
        this.options.log("control-plane.delete-failed", { cluster: name, error: String(err) }),
      );
    }
  }

  private liveCount(): number {
    return Object.values(this.status.controlPlanes).filter(
      (s) => s.state === "ready" || s.state === "starting",
    ).length;
  }

  private launch(name: string, work: () => Promise<void>): void {
    const task = work().finally(() => {
      this.inFlight.delete(name);
      this.changed();
    });
    this.inFlight.set(name, task);
  }

  private async create(name: string): Promise<void> {
    const attempts = (this.status.controlPlanes[name]?.attempts ?? 0) + 1;
    this.set(name, { state: "starting", attempts });
    const started = Date.now();
    try {
      const cp = await createControlPlane(this.options.host, name);
      await this.options.admin.publishControlPlane(name, cp.endpoint, cp.certificateAuthority);
      this.retryAt.delete(name);
      this.set(name, { state: "ready", endpoint: cp.endpoint });
      this.options.log("control-plane.ready", {
        cluster: name,
        endpoint: cp.endpoint,
        ms: Date.now() - started,
      });
    } catch (err) {
      if (toKubecontrolError(err).details?.status === 404) {
        // Deleted while its control plane started (tests do this): nothing to publish or retry.
        await this.remove(name);
        this.options.log("control-plane.abandoned", {
          cluster: name,
          reason: "cluster deleted while starting",
        });
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts);
      this.retryAt.set(name, Date.now() + backoff);
      const message = toKubecontrolError(err).message;
      this.set(name, { state: "failed", attempts, error: `${message} (retrying in ${backoff / 1000} s)` });
      this.options.log("control-plane.failed", { cluster: name, attempts, error: message });
    }
  }

  /** A control plane left by an earlier watcher: kept if its API answers, else started anew. */
  private async adopt(cluster: SandboxEksCluster): Promise<void> {
    const kubeconfig = adminKubeconfigPath(this.options.host.k8sDir, cluster.name);
    try {
      await run(
        `${this.options.host.binDir}/kubectl`,
        ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"],
        {
          timeout: 5000,
        },
      );
      this.set(cluster.name, { state: "ready", endpoint: cluster.endpoint ?? "" });
      if (!cluster.endpoint) await this.create(cluster.name);
    } catch {
      await this.create(cluster.name);
    }
  }

  /** moto names another endpoint: the cluster was made anew under this name, so its control plane is too. */
  private async republish(name: string): Promise<void> {
    await this.create(name);
  }

  private async remove(name: string): Promise<void> {
    this.set(name, { state: "deleting" });
    try {
      await deleteControlPlane(this.options.host, name);
      delete this.status.controlPlanes[name];
      this.retryAt.delete(name);
      this.options.log("control-plane.deleted", { cluster: name });
    } catch (err) {
      this.set(name, { state: "deleting", error: toKubecontrolError(err).message });
    }
  }

  private set(name: string, fields: Omit<ControlPlaneStatus, "since">): void {
    const previous = this.status.controlPlanes[name];
    const since = previous?.state === fields.state ? previous.since : new Date().toISOString();
    this.status.controlPlanes[name] = { ...fields, since };
    this.changed();
  }

  private changed(): void {
    this.status.updatedAt = new Date().toISOString();
    this.options.onChange(this.status);
  }
}
