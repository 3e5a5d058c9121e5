import { APPLY_ORDER, type KubeObject } from "../plan/kubernetes.js";
import { KubeApiError, type KubeClient, type KubeResource } from "./client.js";
import { diffObjects } from "./diff.js";
import { mapBounded } from "./map-bounded.js";

/** The field manager of every kubecontrol write. */
export const FIELD_MANAGER = "kubecontrol";

export interface ApplyOptions {
  /** Ask the server to run every stage but persist nothing (dryRun=All), and diff. */
  dryRun?: boolean;
  /** Objects of one kind are applied this many at a time. */
  concurrency?: number;
  signal?: AbortSignal;
}

export type ApplyAction = "created" | "configured" | "unchanged";

/** What applying one object did (or, in a dry run, would do). */
export interface AppliedObject {
  ref: string;
  kind: string;
  namespace?: string;
  name: string;
  action: ApplyAction;
  /** The object as the server returned it. */
  object: KubeResource;
  /** Dry run only: live → desired, Secret values hashed. */
  diff?: string;
  /** Dry run only: false when the server could not check it (its namespace does not exist yet). */
  checked?: boolean;
}

/**
 * Server-side applies objects with field manager `kubecontrol` (taking over fields other
 * managers hold: the plan is the truth), kind by kind in dependency order, objects of one kind
 * concurrently. Reads each object first to say whether it was created, changed or unchanged.
 */
export async function applyObjects(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyOptions = {},
): Promise<AppliedObject[]> {
  const results: AppliedObject[] = [];
  const newNamespaces = new Set<string>();
  for (const group of byKind(objects)) {
    const applied = await mapBounded(group, options.concurrency ?? 8, (o) =>
      applyOne(client, o, options, newNamespaces),
    );
    for (const a of applied) {
      if (a.kind === "Namespace" && a.action === "created") newNamespaces.add(a.name);
      results.push(a);
    }
  }
  return results;
}

async function applyOne(
  client: KubeClient,
  o: KubeObject,
  options: ApplyOptions,
  newNamespaces: Set<string>,
): Promise<AppliedObject> {
  const { kind, metadata } = o;
  const path = await client.pathOf(o.apiVersion, kind, metadata.namespace, metadata.name);
  const ref = `${kind.toLowerCase()}/${metadata.namespace ? `${metadata.namespace}/` : ""}${metadata.name}`;
  const base = {
    ref,
    kind,
    name: metadata.name,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
  };
  if (options.dryRun && metadata.namespace && newNamespaces.has(metadata.namespace)) {
    // The server cannot dry-run into a namespace that only the same dry run creates.
    return { ...base, action: "created", object: o, diff: diffObjects(undefined, o), checked: false };
  }
  const live = await client.get(path, options.signal ? { signal: options.signal } : {});
  let result: KubeResource;
  try {
    result = await client.request("PATCH", path, {
      query: { fieldManager: FIELD_MANAGER, force: true, ...(options.dryRun ? { dryRun: "All" } : {}) },
      body: o,
      contentType: "application/apply-patch+yaml",
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof KubeApiError) {
      err.message = `applying ${ref} failed: ${err.message}`;
    }
    throw err;
  }
  const diff = diffObjects(live, result);
  // Judged on everything but status and server bookkeeping: a controller's status write between
  // the read and the apply moves resourceVersion without anything of ours having changed.
  const action: ApplyAction = !live ? "created" : diff ? "configured" : "unchanged";
  return { ...base, action, object: result, ...(options.dryRun ? { diff, checked: true } : {}) };
}

/** Objects grouped by kind in APPLY_ORDER; kinds not listed come last, in their given order. */
function byKind(objects: KubeObject[]): KubeObject[][] {
  const rank = (k: string) => (APPLY_ORDER.includes(k) ? APPLY_ORDER.indexOf(k) : APPLY_ORDER.length);
  const sorted = [...objects].sort((a, b) => rank(a.kind) - rank(b.kind));
  const groups: KubeObject[][] = [];
  for (const o of sorted) {
    const lastGroup = groups[groups.length - 1];
    if (lastGroup && lastGroup[0]!.kind === o.kind) lastGroup.push(o);
    else groups.push([o]);
  }
  return groups;
}
