import { createHmac, randomBytes } from "node:crypto";
import type { SecretJson } from "../aws/account.js";
import { KubecontrolError } from "../errors.js";
import { registerSecret } from "../io/redact.js";
import {
  COMPONENT_LABEL,
  ENV_SECRET_HASH_ANNOTATION,
  envSecretName,
  type KubeObject,
  secretKeyFor,
} from "../plan/kubernetes.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import type { KubeClient, KubeResource } from "./client.js";

/** One `secret-name#json-key` reference of the spec, and who reads it. */
export interface SecretRef {
  ref: string;
  secret: string;
  key: string;
  /** `component.container VAR` for each env variable that reads it. */
  usedBy: string[];
}

/** The envFromSecrets references of an app's components, sorted by reference. */
export function secretRefs(app: ResolvedKubeApp): SecretRef[] {
  const refs = new Map<string, SecretRef>();
  for (const [component, comp] of Object.entries(app.components))
    for (const container of comp.containers)
      for (const [variable, ref] of Object.entries(container.envFromSecrets)) {
        const hash = ref.lastIndexOf("#");
        const found = refs.get(ref) ?? {
          ref,
          secret: ref.slice(0, hash),
          key: ref.slice(hash + 1),
          usedBy: [],
        };
        found.usedBy.push(`${component}.${container.name} ${variable}`);
        refs.set(ref, found);
      }
  return [...refs.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** A reference that cannot be resolved: names the secret and key, never a value. */
export interface SecretProblem {
  secret: string;
  key?: string;
  message: string;
  hint: string;
}

/** How a secret is read: undefined when it does not exist (Aws.secrets.jsonObject). */
export type ReadSecret = (name: string) => Promise<SecretJson | undefined>;

/**
 * Resolves every reference, reading each secret once: the values by reference, or what is
 * wrong (a missing secret, a value that is not a JSON object, a missing or null key). Problem
 * messages name secrets, keys and env variables only.
 */
export async function resolveSecretRefs(
  refs: SecretRef[],
  read: ReadSecret,
  region: string,
): Promise<{ values: Map<string, string>; problems: SecretProblem[] }> {
  const values = new Map<string, string>();
  const problems: SecretProblem[] = [];
  const bySecret = new Map<string, SecretRef[]>();
  for (const r of refs) bySecret.set(r.secret, [...(bySecret.get(r.secret) ?? []), r]);
  for (const [secret, uses] of bySecret) {
    const users = uses.flatMap((u) => u.usedBy).join(", ");
    const json = await read(secret);
    if (!json) {
      problems.push({
        secret,
        message: `secret ${secret} does not exist (envFromSecrets of ${users})`,
        hint: `create the secret ${secret} in Secrets Manager in ${region} as a JSON object with the key(s) ${uses.map((u) => u.key).join(", ")}`,
      });
      continue;
    }
    if (json.kind === "not-an-object") {
      problems.push({
        secret,
        message: `secret ${secret} does not hold a JSON object: ${json.why} (envFromSecrets of ${users})`,
        hint: `store ${secret} as a JSON object of keys and values ({"key": "value"}); envFromSecrets reads one key of it`,
      });
      continue;
    }
    for (const use of uses) {
      const value = Object.hasOwn(json.values, use.key) ? json.values[use.key] : undefined;
      if (value === undefined || value === null) {
        problems.push({
          secret,
          key: use.key,
          message: `secret ${secret} has no JSON key ${use.key}${value === null ? " (it is null)" : ""} (envFromSecrets of ${use.usedBy.join(", ")})`,
          hint: `add the key ${use.key} to the secret ${secret} in Secrets Manager, or fix envFromSecrets in the spec`,
        });
        continue;
      }
      values.set(use.ref, value);
    }
  }
  return { values, problems };
}

/**
 * The Secret's data key that holds the key of the digests. A plain hash of a short value could
 * be reversed by trying candidates, and the digests sit on pods that more people may read than
 * the Secret; keyed with a random key kept in the Secret itself, they say only "changed".
 */
export const DIGEST_KEY_FIELD = "kubecontrol.digest-key";

/**
 * The digest key of the app's env Secret: the one the live Secret holds, or a new random one
 * when there is no Secret yet (the apply then stores it).
 */
export async function envDigestKey(client: KubeClient, app: string): Promise<string> {
  const path = `/api/v1/namespaces/${encodeURIComponent(app)}/secrets/${encodeURIComponent(envSecretName(app))}`;
  const live = await client.get<{ data?: Record<string, string> }>(path);
  const stored = live?.data?.[DIGEST_KEY_FIELD];
  return stored ? Buffer.from(stored, "base64").toString("utf8") : randomBytes(32).toString("hex");
}

/** A digest of values that shows they changed without showing them. */
function digest(key: string, entries: [string, string][]): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHmac("sha256", key)
    .update(`kubecontrol env-secret v1\n${JSON.stringify(sorted)}`)
    .digest("hex")
    .slice(0, 16);
}

/**
 * The app's objects with its env Secret filled in from Secrets Manager: the planned Secret gets
 * the values (base64), the digest key and a digest of the values, and each Deployment whose
 * containers read any gets a digest of the values it reads on its pod template, so a changed
 * value rolls exactly the pods that read it. The result holds secret values: it goes to the API
 * server and nowhere else.
 */
export function withEnvSecret(
  objects: KubeObject[],
  app: ResolvedKubeApp,
  values: ReadonlyMap<string, string>,
  digestKey: string,
): KubeObject[] {
  const refs = secretRefs(app);
  if (refs.length === 0) return objects;
  const name = envSecretName(app.name);
  const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const data = Object.fromEntries(
    refs.map((r) => {
      const value = values.get(r.ref);
      if (value === undefined)
        throw new KubecontrolError("INTERNAL", `no value was read for ${r.secret}#${r.key}`);
      return [secretKeyFor(r.ref), base64(value)];
    }),
  );
  data[DIGEST_KEY_FIELD] = base64(digestKey);
  const hashOf = (used: string[]) =>
    digest(
      digestKey,
      used.map((ref) => [ref, values.get(ref)!]),
    );
  return objects.map((o) => {
    if (o.kind === "Secret" && o.metadata.name === name) {
      return {
        ...o,
        metadata: {
          ...o.metadata,
          annotations: {
            ...o.metadata.annotations,
            [ENV_SECRET_HASH_ANNOTATION]: hashOf([...values.keys()]),
          },
        },
        data,
      };
    }
    const component = o.metadata.labels[COMPONENT_LABEL];
    const comp = component === o.metadata.name ? app.components[component] : undefined;
    if (o.kind !== "Deployment" || !comp) return o;
    const used = [...new Set(comp.containers.flatMap((c) => Object.values(c.envFromSecrets)))];
    if (used.length === 0) return o;
    const spec = o.spec as { template: { metadata: { annotations?: Record<string, string> } } };
    return {
      ...o,
      spec: {
        ...spec,
        template: {
          ...spec.template,
          metadata: {
            ...spec.template.metadata,
            annotations: {
              ...spec.template.metadata.annotations,
              [ENV_SECRET_HASH_ANNOTATION]: hashOf(used),
            },
          },
        },
      },
    };
  });
}

/**
 * Reads the values an app's envFromSecrets reference, failing (STEP_FAILED, naming the secret
 * and key) when one has gone since preflight.
 */
export async function readEnvSecretValues(
  app: ResolvedKubeApp,
  read: ReadSecret,
): Promise<Map<string, string>> {
  const refs = secretRefs(app);
  if (refs.length === 0) return new Map();
  const { values, problems } = await resolveSecretRefs(refs, read, app.region);
  if (problems.length > 0)
    throw new KubecontrolError(
      "STEP_FAILED",
      `envFromSecrets cannot be resolved: ${problems.map((p) => p.message).join("; ")}`,
      { hint: [...new Set(problems.map((p) => p.hint))].join("; ") },
    );
  // Whatever prints or records text from now on scrubs these values.
  for (const v of values.values()) registerSecret(v);
  return values;
}

/**
 * A step result without Secret values: the objects the API server returned keep their data's
 * keys, not the values, so whatever keeps or records a step's result cannot hold them.
 */
export function withoutSecretValues<R extends { applied: { kind: string; object: KubeResource }[] }>(
  result: R | undefined,
): R | undefined {
  if (!result) return result;
  return {
    ...result,
    applied: result.applied.map((a) => {
      if (a.kind !== "Secret") return a;
      const object = { ...a.object };
      for (const field of ["data", "stringData"])
        if (object[field] && typeof object[field] === "object")
          object[field] = Object.fromEntries(
            Object.keys(object[field] as object).map((k) => [k, "(redacted)"]),
          );
      return { ...a, object };
    }),
  };
}
