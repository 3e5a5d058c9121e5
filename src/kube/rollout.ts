import { KubecontrolError } from "../errors.js";
import type { KubeObject } from "../plan/kubernetes.js";
import { FIELD_MANAGER } from "./apply.js";
import type { KubeClient, KubeResource } from "./client.js";
import { mapBounded } from "./map-bounded.js";
import { refOf, type WaitOptions, type WaitReport, waitForObjects } from "./watch/wait-for-objects.js";

/** New images for one live workload's containers (container name → image reference). */
export interface ImageUpdate {
  kind: "Deployment" | "DaemonSet";
  namespace: string;
  name: string;
  images: Record<string, string>;
}

/** The planned images of every Deployment and DaemonSet (container name → image). */
export function workloadUpdates(objects: KubeObject[]): ImageUpdate[] {
  return objects
    .filter((o): o is KubeObject & { kind: "Deployment" | "DaemonSet" } =>
      ["Deployment", "DaemonSet"].includes(o.kind),
    )
    .map((o) => {
      const containers =
        (o.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec
          .containers ?? [];
      return {
        kind: o.kind,
        namespace: o.metadata.namespace ?? "default",
        name: o.metadata.name,
        images: Object.fromEntries(containers.map((c) => [c.name, c.image])),
      };
    });
}

export interface RolloutOptions extends WaitOptions {
  /** Restore the previous pod templates when the rollout fails (default true). */
  undo?: boolean;
  /** How long to watch the undo; default the kinds' timeouts. */
  undoTimeoutMs?: number;
}

/** A workload's pod template before the rollout, to put back on failure. */
export interface Snapshot {
  update: ImageUpdate;
  path: string;
  template: unknown;
  images: Record<string, string>;
}

export interface RolloutReport {
  ok: boolean;
  /** Workloads whose images were patched (kind/name); empty when all already ran the images. */
  patched: string[];
  watch: WaitReport | undefined;
  /** Present when the rollout failed and undo was on. */
  undo?: { ok: boolean; restored: { ref: string; images: Record<string, string> }[]; watch: WaitReport };
}

type PodTemplate = { spec?: { containers?: { name: string; image?: string }[] } };

/** Workloads whose images were patched, and what to put back on each if the new pods fail. */
export interface PatchedImages {
  /** kind/name of each patched workload; empty when all already ran the images. */
  patched: string[];
  /** Per patched workload: the pod template before the patch, and the generation the patch made. */
  before: (Snapshot & { generation: number })[];
}

/**
 * Rolling update: patches the live workloads' container images (strategic merge by container
 * name, field manager `kubecontrol`), then {@link watchRollout}.
 */
export async function rolloutImages(
  client: KubeClient,
  updates: ImageUpdate[],
  options: RolloutOptions = {},
): Promise<RolloutReport> {
  return watchRollout(client, await patchImages(client, updates, options.signal), options);
}

/**
 * Patches the images of the workloads that run others (strategic merge by container name, field
 * manager `kubecontrol`), keeping each one's pod template as it was. It does not wait.
 */
export async function patchImages(
  client: KubeClient,
  updates: ImageUpdate[],
  signal?: AbortSignal,
): Promise<PatchedImages> {
  const snapshots = await mapBounded(updates, 8, (u) => snapshotOf(client, u));
  const changing = snapshots.filter((s) =>
    Object.entries(s.update.images).some(([c, img]) => s.images[c] !== img),
  );
  const patched = await mapBounded(changing, 8, (s) =>
    client.request("PATCH", s.path, {
      query: { fieldManager: FIELD_MANAGER },
      contentType: "application/strategic-merge-patch+json",
      body: {
        spec: {
          template: {
            spec: { containers: Object.entries(s.update.images).map(([name, image]) => ({ name, image })) },
          },
        },
      },
      ...(signal ? { signal } : {}),
    }),
  );
  return {
    patched: changing.map((s) => refOf(s.update)),
    before: changing.map((s, i) => ({ ...s, generation: patched[i]!.metadata?.generation ?? 0 })),
  };
}

/**
 * Watches patched workloads to availability and, when one fails or times out, restores every
 * patched workload's previous pod template and watches that back (unless `undo` is false).
 */
export async function watchRollout(
  client: KubeClient,
  p: PatchedImages,
  options: RolloutOptions = {},
): Promise<RolloutReport> {
  if (p.before.length === 0) return { ok: true, patched: [], watch: undefined };
  const watch = await waitForObjects(
    client,
    p.before.map((s) => ({ ...target(s.update), minGeneration: s.generation })),
    options,
  );
  const report: RolloutReport = { ok: watch.ok, patched: p.patched, watch };
  if (watch.ok || options.undo === false || options.signal?.aborted) return report;

  const restored = await mapBounded(p.before, 8, (s) =>
    client.request("PATCH", s.path, {
      query: { fieldManager: FIELD_MANAGER },
      contentType: "application/json-patch+json",
      body: [{ op: "replace", path: "/spec/template", value: s.template }],
    }),
  );
  const undoTimeouts = options.undoTimeoutMs
    ? { Deployment: options.undoTimeoutMs, DaemonSet: options.undoTimeoutMs }
    : options.timeoutMs;
  const undoWatch = await waitForObjects(
    client,
    p.before.map((s, i) => ({ ...target(s.update), minGeneration: restored[i]!.metadata?.generation ?? 0 })),
    { ...options, ...(undoTimeouts ? { timeoutMs: undoTimeouts } : {}), failFast: false },
  );
  report.undo = {
    ok: undoWatch.ok,
    restored: p.before.map((s) => ({
      ref: refOf(s.update),
      images: Object.fromEntries(Object.keys(s.update.images).map((c) => [c, s.images[c] ?? ""])),
    })),
    watch: undoWatch,
  };
  return report;
}

/** The coded error a failed rollout raises: what failed, why, and whether it was undone. */
export function rolloutError(report: RolloutReport): KubecontrolError {
  const failed = (report.watch?.outcomes ?? []).filter(
    (o) => o.outcome === "failed" || o.outcome === "timed-out",
  );
  const what = failed.map(
    (o) => `${o.ref} ${o.outcome === "failed" ? "failed" : "timed out"}: ${o.reason}: ${o.message}`,
  );
  const undo = report.undo
    ? report.undo.ok
      ? `rolled back ${report.undo.restored.map((r) => `${r.ref} to ${Object.values(r.images).join(", ")}`).join("; ")}, and it is available again`
      : `rolling back did not finish: ${report.undo.watch.outcomes
          .filter((o) => o.outcome !== "succeeded")
          .map((o) => `${o.ref} ${o.summary}`)
          .join("; ")}`
    : "nothing was rolled back";
  // New pods that failed or never became available were judged and found wanting: that is a
  // failed verification (exit 7), not a failed step.
  return new KubecontrolError(
    failed.length ? "VERIFY_FAILED" : "STEP_FAILED",
    `rollout failed: ${what.join("; ")}; ${undo}`,
    {
      retryable: false,
      hint: report.undo?.ok
        ? "the previous version is serving; fix the image or the spec and roll out again"
        : "check the workloads with kubectl; re-run the rollout or roll back by hand",
      details: {
        failed: failed.map((o) => ({
          ref: o.ref,
          reason: o.reason,
          message: o.message,
          evidence: o.evidence,
        })),
        undone: report.undo?.ok ?? false,
      },
    },
  );
}

async function snapshotOf(client: KubeClient, update: ImageUpdate): Promise<Snapshot> {
  const path = await client.pathOf("apps/v1", update.kind, update.namespace, update.name);
  const live = await client.get<KubeResource>(path);
  if (!live) {
    throw new KubecontrolError(
      "NOT_FOUND",
      `${refOf(update)} does not exist in namespace ${update.namespace}`,
      {
        hint: "create the app first (kubecontrol create), then roll out",
      },
    );
  }
  const template = (live.spec as { template?: PodTemplate } | undefined)?.template ?? {};
  const containers = template.spec?.containers ?? [];
  for (const name of Object.keys(update.images)) {
    if (!containers.some((c) => c.name === name)) {
      throw new KubecontrolError("PRECONDITION", `${refOf(update)} has no container named ${name}`);
    }
  }
  const images = Object.fromEntries(containers.map((c) => [c.name, c.image ?? ""]));
  return { update, path, template, images };
}

function target(u: ImageUpdate) {
  return { kind: u.kind, namespace: u.namespace, name: u.name };
}
