import type { KubeClient } from "../../../kube/client.js";
import { refOf } from "../../../kube/watch/wait-for-objects.js";
import { type KubeObject, VERSION_ANNOTATION } from "../../../plan/kubernetes.js";
import type { Step } from "../../step.js";

/** The step that records the version a colour's workloads run, once they are judged. */
export const RECORD_VERSION = "record-version";

interface Versioned {
  path: string;
  ref: string;
}

/**
 * Records `version` in the `kubecontrol.io/version` annotation of each workload the plan gives
 * one (kubectl shows it; `update` and `status` read it). Its check reads the live annotations, so
 * a run stopped between a patch and its record finds the workload that runs the version but
 * records another, and records it.
 */
export function recordVersionStep(o: {
  client: () => Promise<KubeClient>;
  objects: KubeObject[];
  version: string;
  dependsOn: string[];
}): Step<Versioned[], string[]> {
  const versioned = o.objects.filter((x) => x.metadata.annotations?.[VERSION_ANNOTATION] !== undefined);
  const short = o.version.slice(0, 12);
  const live = async (client: KubeClient) =>
    Promise.all(
      versioned.map(async (x) => {
        const path = await client.pathOf(x.apiVersion, x.kind, x.metadata.namespace, x.metadata.name);
        const found = await client.get<{ metadata?: { annotations?: Record<string, string> } }>(path);
        return { path, ref: refOf({ kind: x.kind, name: x.metadata.name }), found };
      }),
    );
  return {
    name: RECORD_VERSION,
    description: `record ${short} on ${versioned.map((x) => refOf({ kind: x.kind, name: x.metadata.name })).join(", ") || "no workload"}`,
    dependsOn: o.dependsOn,
    phase: "rollout",
    async check() {
      const seen = await live(await o.client());
      // A workload the cluster lacks is the rollout's to refuse, not this step's to record.
      const other = seen.filter(
        (s) => s.found && s.found.metadata?.annotations?.[VERSION_ANNOTATION] !== o.version,
      );
      if (other.length === 0) return { satisfied: true, reason: `every workload records ${short}` };
      return {
        satisfied: false,
        reason: `${other.map((s) => s.ref).join(", ")} run ${short} but record ${other
          .map((s) => s.found?.metadata?.annotations?.[VERSION_ANNOTATION]?.slice(0, 12) ?? "none")
          .join(", ")}`,
        needed: other.map(({ path, ref }) => ({ path, ref })),
      };
    },
    async apply(ctx, needed) {
      const client = await o.client();
      await Promise.all(
        needed.map((w) =>
          client.request("PATCH", w.path, {
            query: { fieldManager: "kubecontrol" },
            contentType: "application/merge-patch+json",
            body: { metadata: { annotations: { [VERSION_ANNOTATION]: o.version } } },
            signal: ctx.signal,
          }),
        ),
      );
      return needed.map((w) => w.ref);
    },
    summarize: (changed, refs) =>
      changed && refs ? `recorded ${short} on ${refs.join(", ")}` : `${short} recorded`,
  };
}
