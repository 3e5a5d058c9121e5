import type { KubeClient } from "../../../kube/client.js";
import {
  type ImageUpdate,
  type RolloutOptions,
  type RolloutReport,
  rolloutError,
  rolloutImages,
} from "../../../kube/rollout.js";
import type { Step } from "../../step.js";

/** The rolling-update step: check reads the live images, apply patches and watches, undoing on failure. */
export function rollOutImagesStep(
  client: KubeClient,
  updates: ImageUpdate[],
  options: Omit<RolloutOptions, "signal" | "onWaiting"> & { timeoutMs?: RolloutOptions["timeoutMs"] } = {},
): Step<ImageUpdate[], RolloutReport> {
  const describe = updates.map((u) => `${u.kind.toLowerCase()}/${u.name}`).join(", ");
  return {
    name: "rollOutImages",
    description: `roll out new images to ${describe}`,
    async check() {
      const stale = await staleUpdates(client, updates);
      return stale.length === 0
        ? { satisfied: true, reason: `${describe} already run the requested images` }
        : {
            satisfied: false,
            reason: `${stale.map((u) => `${u.kind.toLowerCase()}/${u.name}`).join(", ")} run other images`,
            needed: stale,
          };
    },
    async apply(ctx, needed) {
      const report = await rolloutImages(client, needed ?? updates, {
        ...options,
        signal: ctx.signal,
        onWaiting: (reason) => ctx.waiting(reason),
      });
      if (report.ok) return report;
      // The error says what failed and how the undo went; it is reported once, as the step's failure.
      throw rolloutError(report);
    },
    summarize(changed, report) {
      if (!changed || !report) return "images already in place";
      return `rolled out ${report.patched.join(", ")}: ${report.watch?.outcomes.map((o) => `${o.ref} ${o.summary}`).join(", ")}`;
    },
  };
}

/** The updates whose workloads do not run the wanted images yet. */
async function staleUpdates(client: KubeClient, updates: ImageUpdate[]): Promise<ImageUpdate[]> {
  const stale: ImageUpdate[] = [];
  for (const u of updates) {
    const live = await client.get<{
      spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
    }>(await client.pathOf("apps/v1", u.kind, u.namespace, u.name));
    const containers = live?.spec?.template?.spec?.containers ?? [];
    if (
      Object.entries(u.images).some(
        ([name, image]) => containers.find((c) => c.name === name)?.image !== image,
      )
    ) {
      stale.push(u);
    }
  }
  return stale;
}
