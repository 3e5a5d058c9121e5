import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { EventSink } from "../../io/events.js";
import { KubeApiError } from "../../kube/client.js";
import { connectCluster } from "../../kube/cluster-access.js";
import { APP_LABEL, VERSION_ANNOTATION } from "../../plan/kubernetes.js";
import type { Colour } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import { colourPlans } from "./live-state.js";

/** What reading a colour's version needs: the app, its AWS clients, how to reach its cluster. */
export interface VersionReader {
  app: ResolvedKubeApp;
  aws: Aws;
  /** AWS endpoint for EKS tokens and DescribeCluster (a sandbox); default: AWS's. */
  awsEndpoint?: string | undefined;
  emit: EventSink;
  /** How long one Kubernetes request may take (the operator's requestTimeout). */
  requestTimeoutMs?: number | undefined;
}

/** The version each of `colours` runs (runningVersion), read at once. */
export async function runningVersions(
  i: VersionReader,
  colours: readonly Colour[],
): Promise<Partial<Record<Colour, string | undefined>>> {
  const plans = colourPlans(i.app);
  const versions = await Promise.all(colours.map((c) => runningVersion(i, plans[c])));
  return Object.fromEntries(colours.map((c, n) => [c, versions[n]]));
}

/**
 * The version a colour runs: the `kubecontrol.io/version` annotation its app's Deployments carry
 * (set by create and update, kept current by rollouts). Undefined when the colour has no cluster
 * or no workloads, when they disagree (a rollout stopped half-way), or when the caller may not
 * read the cluster (then the update builds the other colour, which reaches the same end).
 */
export async function runningVersion(i: VersionReader, plan: Plan): Promise<string | undefined> {
  const cluster = await i.aws.eks.describeCluster(plan.cluster);
  if (!cluster?.endpoint || !cluster.certificateAuthority?.data) return undefined;
  const client = await connectCluster({
    clusterName: plan.cluster,
    region: plan.region,
    endpoint: {
      name: plan.cluster,
      endpoint: cluster.endpoint,
      certificateAuthority: cluster.certificateAuthority.data,
    },
    ...(i.awsEndpoint ? { awsEndpoint: i.awsEndpoint } : {}),
    requestTimeoutMs: i.requestTimeoutMs,
  });
  try {
    const list = await client.request<{ items: Deployment[] }>(
      "GET",
      `/apis/apps/v1/namespaces/${encodeURIComponent(i.app.name)}/deployments`,
      { query: { labelSelector: `${APP_LABEL}=${i.app.name}` }, signal: AbortSignal.timeout(60_000) },
    );
    // The annotation, and the commit in the tag of every container running the app's image
    // (`<repositoryUri>:<commit>@sha256:…`), must all agree: a rollout stopped between patching
    // images and recording the version is not at either version.
    const versions = new Set<string>();
    const appImage = `/${i.app.image.repository}:`;
    for (const d of list.items) {
      const annotated = d.metadata?.annotations?.[VERSION_ANNOTATION];
      if (annotated) versions.add(annotated);
      for (const c of d.spec?.template?.spec?.containers ?? []) {
        const at = c.image?.indexOf(appImage) ?? -1;
        if (at >= 0) versions.add(c.image!.slice(at + appImage.length).split("@")[0]!);
      }
    }
    return versions.size === 1 ? [...versions][0] : undefined;
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
      i.emit({
        type: "log",
        at: Date.now(),
        level: "warn",
        message: `cannot read the version ${plan.colour} runs (${err.status} from cluster ${plan.cluster}): updating as if it ran another`,
      });
      return undefined;
    }
    throw new KubecontrolError(
      "KUBE",
      `cannot read the version ${plan.colour} runs from cluster ${plan.cluster}: ${(err as Error).message}`,
      {
        cause: err,
        retryable: true,
        hint: "run the update again once the cluster answers",
      },
    );
  } finally {
    client.close();
  }
}

interface Deployment {
  metadata?: { annotations?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}
