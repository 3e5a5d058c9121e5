import { KubecontrolError } from "../errors.js";
import type { KubeClient } from "./client.js";

/** A kind's REST resource as discovery names it. */
export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Finds a kind's plural and scope in its group-version's discovery document. */
export async function resourceFor(
  client: KubeClient,
  apiVersion: string,
  kind: string,
): Promise<ResourceInfo> {
  const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const list = await client.get<ApiResourceList>(path);
  const found = list?.resources.find((r) => r.kind === kind && !r.name.includes("/"));
  if (!found) {
    throw new KubecontrolError("KUBE", `the cluster does not serve ${kind} in ${apiVersion}`, {
      hint: "check the object's apiVersion against the cluster's Kubernetes version",
    });
  }
  return { plural: found.name, namespaced: found.namespaced };
}
