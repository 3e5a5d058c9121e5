import type { KubeClient } from "../../../kube/client.js";
import {
  type ImageUpdate,
  type PatchedImages,
  patchImages,
  type RolloutOptions,
  type RolloutReport,
  rolloutError,
  watchRollout,
} from "../../../kube/rollout.js";
import { refOf } from "../../../kube/watch/wait-for-objects.js";
import type { Step } from "../../step.js";

/** A rollout's result: what `apply` patched, and once `wait` has watched it, how that went. */
export interface RollingOut {
  patched: PatchedImages;
  report?: RolloutReport;
}

/**
 * The rolling-update step: check reads the live images; apply patches them; wait watches the
 * workloads to availability, putting the previous pod templates back when the new pods fail.
 */
export function rollOutImagesStep(
  client: KubeClient,
  updates: ImageUpdate[],
  options: Omit<RolloutOptions, "signal" | "onWaiting"> & { timeoutMs?: RolloutOptions["timeoutMs"] } = {},
): Step<ImageUpdate[], RollingOut> {
  const describe = updates.map(refOf).join(", ");
  return {
    name: "roll-out-images",
    description: `roll out new images to ${describe}`,
    async check() {
      const { stale, missing } = await imageChanges(client, updates);
      // A workload the cluster lacks is not in place either: apply fails on it (NOT_FOUND).
      const needed = [...stale, ...missing];
      return needed.length === 0
        ? { satisfied: true, reason: `${describe} already run the requested images` }
        : {
            satisfied: false,
            reason: [
              stale.length ? `${stale.map(refOf).join(", ")} run other images` : "",
              missing.length ? `${missing.map(refOf).join(", ")} missing` : "",
            ]
              .filter(Boolean)
              .join("; "),
            needed,
          };
    },
    async apply(ctx, needed) {
      return { patched: await patchImages(client, needed, ctx.signal) };
    },
    async wait(ctx, applied) {
      if (!applied) return applied;
      const report = await watchRollout(client, applied.patched, {
        ...options,
        signal: ctx.signal,
        onWaiting: (reason) => ctx.waiting(reason),
      });
      // The error says what failed and how the undo went; it is reported once, as the step's failure.
      if (!report.ok) throw rolloutError(report);
      return { ...applied, report };
    },
    summarize(changed, result) {
      const report = result?.report;
      if (!changed || !report) return "images already in place";
      return `rolled out ${report.patched.join(", ")}: ${report.watch?.outcomes.map((o) => `${o.ref} ${o.summary}`).join(", ")}`;
    },
  };
}

/** One container whose image a rollout changes. */
export interface ImageChange {
  /** kind/name, e.g. deployment/web. */
  workload: string;
  container: string;
  from: string;
  to: string;
}

type LiveWorkload = {
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
};

/**
 * Reads the live workloads and says which containers would change image (`changes`), which
 * workloads that makes stale, and which the cluster lacks (`missing`).
 */
export async function imageChanges(
  client: KubeClient,
  updates: ImageUpdate[],
): Promise<{ changes: ImageChange[]; stale: ImageUpdate[]; missing: ImageUpdate[] }> {
  const live = await Promise.all(
    updates.map(async (u) =>
      client.get<LiveWorkload>(await client.pathOf("apps/v1", u.kind, u.namespace, u.name)),
    ),
  );
  const changes: ImageChange[] = [];
  const stale: ImageUpdate[] = [];
  const missing: ImageUpdate[] = [];
  updates.forEach((u, i) => {
    const workload = live[i];
    if (!workload) {
      missing.push(u);
      return;
    }
    const containers = workload.spec?.template?.spec?.containers ?? [];
    const changed = Object.entries(u.images).filter(
      ([name, image]) => (containers.find((c) => c.name === name)?.image ?? "") !== image,
    );
    for (const [name, image] of changed)
      changes.push({
        workload: refOf(u),
        container: name,
        from: containers.find((c) => c.name === name)?.image ?? "",
        to: image,
      });
    if (changed.length) stale.push(u);
  });
  return { changes, stale, missing };
}
