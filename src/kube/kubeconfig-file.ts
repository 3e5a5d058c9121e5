import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import type { ClusterEndpoint } from "./describe-cluster.js";

/** A kubeconfig document (the parts kubecontrol writes; others are kept as they are). */
interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: { name: string; cluster: unknown }[];
  users?: { name: string; user: unknown }[];
  contexts?: { name: string; context: unknown }[];
  "current-context"?: string;
  [key: string]: unknown;
}

export interface KubeconfigEntryInput {
  cluster: ClusterEndpoint;
  region: string;
  /** Context, cluster and user name in the file. */
  name: string;
  /** Passed to the credential plugin: the sandbox's AWS endpoint, never credentials. */
  env?: Record<string, string>;
}

/**
 * A kubeconfig for one EKS cluster whose user runs `aws eks get-token` for every new token,
 * as `aws eks update-kubeconfig` writes it: the file holds no secret and never goes stale.
 */
export function eksKubeconfig(input: KubeconfigEntryInput): KubeconfigDoc {
  const env = Object.entries(input.env ?? {}).map(([name, value]) => ({ name, value }));
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: input.name,
        cluster: {
          server: input.cluster.endpoint,
          "certificate-authority-data": input.cluster.certificateAuthority,
        },
      },
    ],
    users: [
      {
        name: input.name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "--region",
              input.region,
              "eks",
              "get-token",
              "--cluster-name",
              input.cluster.name,
              "--output",
              "json",
            ],
            ...(env.length > 0 ? { env } : {}),
            interactiveMode: "Never",
          },
        },
      },
    ],
    contexts: [{ name: input.name, context: { cluster: input.name, user: input.name } }],
    "current-context": input.name,
  };
}

/** Where kubectl reads its configuration: the first file in KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return first ?? path.join(os.homedir(), ".kube", "config");
}

/** Merges one cluster's entries into a kubeconfig file (replacing same-named ones) and makes it current. */
export async function writeKubeconfigEntry(file: string, entry: KubeconfigDoc): Promise<void> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw err;
  });
  const doc = ((text ? parse(text) : undefined) ?? { apiVersion: "v1", kind: "Config" }) as KubeconfigDoc;
  const merge = <T extends { name: string }>(mine: T[] | undefined, theirs: T[] | undefined): T[] => [
    ...(theirs ?? []).filter((t) => !(mine ?? []).some((m) => m.name === t.name)),
    ...(mine ?? []),
  ];
  doc.clusters = merge(entry.clusters, doc.clusters);
  doc.users = merge(entry.users, doc.users);
  doc.contexts = merge(entry.contexts, doc.contexts);
  if (entry["current-context"]) doc["current-context"] = entry["current-context"];
  await mkdir(path.dirname(file), { recursive: true });
  // Written aside and renamed, so a reader never sees half a file; 0600 as kubectl keeps it.
  const temp = `${file}.kubecontrol-${process.pid}`;
  await writeFile(temp, stringify(doc), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}
