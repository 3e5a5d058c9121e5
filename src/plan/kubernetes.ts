import type { AddonWorkload } from "../spec/defaults/addons.js";
import { parseDuration } from "../spec/primitives.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import type { Component, Container } from "../spec/schema.js";
import { POOL_LABEL } from "./aws.js";

/** A Kubernetes object as sent to server-side apply. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Label every object of an app carries; prune finds the app's objects by it. */
export const APP_LABEL = "kubecontrol.io/app";
export const COMPONENT_LABEL = "kubecontrol.io/component";
export const VERSION_ANNOTATION = "kubecontrol.io/version";
export const SECRET_SOURCES_ANNOTATION = "kubecontrol.io/secret-sources";
/**
 * Digest of the Secrets Manager values a pod reads (on its template) or the Secret holds (on the
 * Secret): set at deploy time, so a changed value rolls the pods that read it.
 */
export const ENV_SECRET_HASH_ANNOTATION = "kubecontrol.io/env-secret-hash";

/** The Secret that carries an app's envFromSecrets values, in the app's namespace. */
export function envSecretName(app: string): string {
  return `${app}-env`;
}

/** Kinds in the order they are applied (namespace first, services after their workloads). */
export const APPLY_ORDER = [
  "Namespace",
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ConfigMap",
  "Secret",
  "Deployment",
  "DaemonSet",
  "Service",
  "PodDisruptionBudget",
];

interface KubeInputs {
  app: ResolvedKubeApp;
  /** The app image reference ("app" in a container resolves to it). */
  image: string;
  version: string;
  nodePorts: Record<string, number>;
}

/** The Kubernetes objects of an app, in apply order. */
export function planKubeObjects({ app, image, version, nodePorts }: KubeInputs): KubeObject[] {
  const ns = app.name;
  const common: Record<string, string> = {
    ...app.labels,
    "app.kubernetes.io/part-of": app.name,
    "app.kubernetes.io/managed-by": "kubecontrol",
    [APP_LABEL]: app.name,
  };
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace: ns,
    labels: { ...common, ...extra },
  });
  const objects: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { ...common } } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta(app.name),
      automountServiceAccountToken: false,
    },
  ];

  const secretKeys = secretKeysOf(app);
  if (Object.keys(secretKeys).length > 0) {
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        ...meta(envSecretName(app.name)),
        annotations: { [SECRET_SOURCES_ANNOTATION]: JSON.stringify(secretKeys) },
      },
      type: "Opaque",
      // Values are read from Secrets Manager at deploy time; the plan never holds them.
      data: {},
    });
  }

  for (const [name, comp] of Object.entries(app.components)) {
    const labels = { ...comp.labels, "app.kubernetes.io/name": name, [COMPONENT_LABEL]: name };
    if (comp.config)
      objects.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(`${name}-config`, labels),
        data: comp.config,
      });
    objects.push(deployment(app, name, comp, { image, version, labels: { ...common, ...labels } }));
    if (comp.replicas > 1 || comp.disruptionBudget) {
      objects.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(name, labels),
        spec: {
          maxUnavailable: comp.disruptionBudget?.maxUnavailable ?? 1,
          selector: { matchLabels: selectorOf(app.name, name) },
        },
      });
    }
  }

  for (const addon of app.addonWorkloads) objects.push(...addonObjects(app, addon, common));

  for (const [name, svc] of Object.entries(app.services)) {
    objects.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(name, { "app.kubernetes.io/name": svc.component, [COMPONENT_LABEL]: svc.component }),
      spec: {
        type: "NodePort",
        // Cluster: a target-group health check on any node reaches a ready pod.
        externalTrafficPolicy: "Cluster",
        selector: selectorOf(app.name, svc.component),
        ports: [
          {
            name: "main",
            protocol: "TCP",
            port: svc.port,
            targetPort: svc.targetPort,
            nodePort: nodePorts[name]!,
          },
        ],
      },
    });
  }
  return objects.sort((a, b) => APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind));
}

function selectorOf(app: string, component: string): Record<string, string> {
  return { [APP_LABEL]: app, [COMPONENT_LABEL]: component };
}

/** Secret key for a `name#key` reference (Kubernetes secret keys allow [-._a-zA-Z0-9]). */
export function secretKeyFor(ref: string): string {
  return ref.replace(/[^-._a-zA-Z0-9]/g, "_");
}

function secretKeysOf(app: ResolvedKubeApp): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const comp of Object.values(app.components)) {
    for (const c of comp.containers)
      for (const ref of Object.values(c.envFromSecrets)) keys[secretKeyFor(ref)] = ref;
  }
  return Object.fromEntries(Object.entries(keys).sort(([a], [b]) => a.localeCompare(b)));
}

/** deploy.verify.timeout in whole seconds (at least 1): the Deployments' progress deadline. */
export function progressDeadlineOf(app: ResolvedKubeApp): number {
  return Math.max(1, Math.ceil(parseDuration(app.deploy.verify.timeout) ?? 600));
}

interface WorkloadInputs {
  image: string;
  version: string;
  labels: Record<string, string>;
}

function deployment(app: ResolvedKubeApp, name: string, comp: Component, w: WorkloadInputs): KubeObject {
  const pool = app.hardware[comp.pool]!;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: app.name,
      labels: w.labels,
      annotations: { [VERSION_ANNOTATION]: w.version },
    },
    spec: {
      replicas: comp.replicas,
      revisionHistoryLimit: 10,
      // The controller marks the rollout failed (ProgressDeadlineExceeded) within the spec's
      // verification timeout, so a watch sees why, not only that time ran out.
      progressDeadlineSeconds: progressDeadlineOf(app),
      selector: { matchLabels: selectorOf(app.name, name) },
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: comp.maxSurge, maxUnavailable: comp.maxUnavailable },
      },
      template: {
        metadata: { labels: w.labels },
        spec: {
          serviceAccountName: app.name,
          nodeSelector: { [POOL_LABEL]: comp.pool },
          ...(pool.taints.length > 0
            ? {
                tolerations: pool.taints.map((t) => ({
                  key: t.key,
                  operator: t.value === undefined ? "Exists" : "Equal",
                  ...(t.value === undefined ? {} : { value: t.value }),
                  effect: t.effect,
                })),
              }
            : {}),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selectorOf(app.name, name) },
            },
          ],
          containers: comp.containers.map((c) =>
            container(app, c, w.image, comp.config ? `/etc/${name}` : undefined),
          ),
          ...(comp.config ? { volumes: [{ name: "config", configMap: { name: `${name}-config` } }] } : {}),
        },
      },
    },
  };
}

function container(
  app: ResolvedKubeApp,
  c: Container,
  appImage: string,
  configDir: string | undefined,
): Record<string, unknown> {
  const env = [
    ...Object.entries(c.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(c.envFromSecrets).map(([name, ref]) => ({
      name,
      valueFrom: { secretKeyRef: { name: envSecretName(app.name), key: secretKeyFor(ref) } },
    })),
  ];
  const out: Record<string, unknown> = {
    name: c.name,
    image: c.image === "app" ? appImage : c.image,
    imagePullPolicy: "IfNotPresent",
  };
  if (c.command) out.command = c.command;
  if (c.args) out.args = c.args;
  if (c.ports.length > 0)
    out.ports = c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol }));
  if (env.length > 0) out.env = env;
  if (c.resources) {
    out.resources = {
      requests: { cpu: c.resources.cpu, memory: c.resources.memory },
      limits: {
        memory: c.resources.memoryLimit ?? c.resources.memory,
        ...(c.resources.cpuLimit ? { cpu: c.resources.cpuLimit } : {}),
      },
    };
  }
  if (c.readiness) out.readinessProbe = probe(c.readiness);
  if (c.liveness) out.livenessProbe = probe(c.liveness);
  if (configDir) out.volumeMounts = [{ name: "config", mountPath: configDir, readOnly: true }];
  return out;
}

function probe(p: NonNullable<Container["readiness"]>): Record<string, unknown> {
  const { httpGet, tcpSocket, exec, ...timing } = p;
  return {
    ...(httpGet ? { httpGet: { path: httpGet.path, port: httpGet.port } } : {}),
    ...(tcpSocket ? { tcpSocket: { port: tcpSocket.port } } : {}),
    ...(exec ? { exec: { command: exec.command } } : {}),
    ...timing,
  };
}

function addonObjects(
  app: ResolvedKubeApp,
  addon: AddonWorkload,
  common: Record<string, string>,
): KubeObject[] {
  const labels = { ...common, "app.kubernetes.io/name": addon.name, [COMPONENT_LABEL]: addon.name };
  const ns = app.name;
  const mountDir = "/etc/addon";
  const containers = addon.component.containers.map((c) => ({
    ...container(app, c, c.image, undefined),
    volumeMounts: [
      { name: "config", mountPath: mountDir, readOnly: true },
      ...Object.entries(addon.hostPaths).map(([name, hostPath]) => ({
        name,
        mountPath: hostPath,
        readOnly: true,
      })),
    ],
  }));
  const rbac = addon.rbac ? addonRbac(addon.name, ns, labels, addon.rbac) : [];
  const podSpec = {
    serviceAccountName: addon.rbac ? addon.name : app.name,
    ...(addon.rbac ? { automountServiceAccountToken: true } : {}),
    ...(addon.kind === "DaemonSet"
      ? { tolerations: [{ operator: "Exists" }] }
      : { nodeSelector: { [POOL_LABEL]: addon.component.pool } }),
    containers,
    volumes: [
      { name: "config", configMap: { name: `${addon.name}-config` } },
      ...Object.entries(addon.hostPaths).map(([name, path]) => ({ name, hostPath: { path } })),
    ],
  };
  const selector = { matchLabels: selectorOf(app.name, addon.name) };
  const workload: KubeObject =
    addon.kind === "DaemonSet"
      ? {
          apiVersion: "apps/v1",
          kind: "DaemonSet",
          metadata: { name: addon.name, namespace: ns, labels },
          spec: {
            selector,
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
            template: { metadata: { labels }, spec: podSpec },
          },
        }
      : {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: addon.name, namespace: ns, labels },
          spec: {
            replicas: addon.component.replicas,
            selector,
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            template: { metadata: { labels }, spec: podSpec },
          },
        };
  return [
    ...rbac,
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `${addon.name}-config`, namespace: ns, labels },
      data: addon.config,
    },
    workload,
  ];
}

/** An add-on's own ServiceAccount, a Role of `rules` in the app's namespace, and their binding. */
function addonRbac(
  name: string,
  ns: string,
  labels: Record<string, string>,
  rules: NonNullable<AddonWorkload["rbac"]>,
): KubeObject[] {
  const metadata = { name, namespace: ns, labels };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
    },
  ];
}
