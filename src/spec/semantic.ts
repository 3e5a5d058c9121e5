import { kubeletRefusesLabel } from "./kubelet-labels.js";
import { instanceTypeAccelerator, instanceTypeArch, nearest } from "./primitives.js";
import type { KubeAppParsed } from "./schema.js";

/** A problem found in a spec: where (field path), what was expected, what was found, what to do. */
export interface SpecProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

const RESERVED_LABEL_PREFIXES = ["app.kubernetes.io/", "kubecontrol.io/"];

/**
 * Rules that relate fields to each other (the schema checks each field alone). Everything here
 * is something AWS or Kubernetes would reject later, or a deployment that could never succeed.
 */
export function semanticProblems(app: KubeAppParsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: (string | number)[], message: string, hint?: string) =>
    problems.push(hint ? { path, message, hint } : { path, message });

  checkName(app, add);
  checkPools(app, add);
  checkCluster(app, add);
  checkComponents(app, add);
  checkServices(app, add);
  checkDeploy(app, add);
  for (const key of Object.keys(app.labels)) {
    if (RESERVED_LABEL_PREFIXES.some((p) => key.startsWith(p))) {
      add(["labels", key], `expected a label of your own, found "${key}", which kubecontrol sets itself`);
    }
  }
  return problems;
}

type Add = (path: (string | number)[], message: string, hint?: string) => void;

/**
 * Resource names are `kc-<app>-<colour>-<part>`, joined by hyphens that app, pool and service
 * names may contain too. An app name with a colour for a segment would make them ambiguous:
 * app shop's blue pool green-x and app shop-blue's green pool x would both be
 * kc-shop-blue-green-x. Without one, the first colour segment of a name is its colour.
 */
function checkName(app: KubeAppParsed, add: Add): void {
  const colour = app.name.split("-").find((s) => s === "blue" || s === "green");
  if (colour)
    add(
      ["name"],
      `expected a name without "${colour}" as a hyphen-separated part, found "${app.name}": resource names are kc-<app>-<colour>-<pool or service>, and a colour inside the app's name makes them ambiguous (app shop's blue pool green-x and app shop-blue's green pool x would both be kc-shop-blue-green-x)`,
      `rename the app so that no part of its name between hyphens is "blue" or "green" (e.g. "${app.name.replace(new RegExp(`(^|-)${colour}(?=-|$)`), `$1${colour === "blue" ? "azure" : "emerald"}`)}")`,
    );
}

function checkPools(app: KubeAppParsed, add: Add): void {
  for (const [name, pool] of Object.entries(app.hardware)) {
    const at = ["hardware", name];
    if (pool.min > pool.max)
      add([...at, "min"], `expected min ≤ max, found min ${pool.min} > max ${pool.max}`);
    if (
      pool.min <= pool.max &&
      pool.desired !== undefined &&
      (pool.desired < pool.min || pool.desired > pool.max)
    ) {
      add(
        [...at, "desired"],
        `expected min ≤ desired ≤ max, found min ${pool.min}, desired ${pool.desired}, max ${pool.max}`,
      );
    }
    if (pool.spot && pool.spot.onDemandBase > pool.max) {
      add(
        [...at, "spot", "onDemandBase"],
        `expected onDemandBase ≤ max (${pool.max}), found ${pool.spot.onDemandBase}`,
      );
    }
    const seen = new Set<string>();
    pool.instanceTypes.forEach((type, i) => {
      if (seen.has(type))
        add([...at, "instanceTypes", i], `expected each instance type once, found "${type}" twice`);
      seen.add(type);
      const arch = instanceTypeArch(type);
      if (arch && arch !== pool.arch) {
        add(
          [...at, "instanceTypes", i],
          `expected ${pool.arch} instance types, found "${type}", which is ${arch}`,
          `set arch: "${arch}" on the pool or pick ${pool.arch} types`,
        );
      }
    });
    const accelerated = pool.instanceTypes.map((type) => instanceTypeAccelerator(type) ?? "plain");
    const first = accelerated[0];
    const other = accelerated.findIndex((kind) => kind !== first);
    if (first !== undefined && other >= 0) {
      const what = (kind: string) => (kind === "plain" ? "a type without accelerators" : `a ${kind} type`);
      add(
        [...at, "instanceTypes", other],
        `expected every instance type of a pool to need the same node image, found "${pool.instanceTypes[0]}" (${what(first)}) and "${pool.instanceTypes[other]}" (${what(accelerated[other]!)})`,
        "put accelerated types in a pool of their own: each pool has one node image (standard, nvidia or neuron)",
      );
    }
    for (const key of Object.keys(pool.labels)) {
      const refused = kubeletRefusesLabel(key);
      if (RESERVED_LABEL_PREFIXES.some((p) => key.startsWith(p)))
        add([...at, "labels", key], `expected a label of your own, found "${key}", which kubecontrol sets`);
      else if (refused)
        add(
          [...at, "labels", key],
          `expected a node label the kubelet accepts, found "${key}": ${refused}`,
          "use a label of your own namespace (e.g. example.com/role), or one under node.kubernetes.io/",
        );
    }
  }
  // CoreDNS and the metrics agent tolerate no taints: they need a pool whose nodes have none
  const pools = Object.entries(app.hardware);
  const hard = (t: { effect: string }) => t.effect === "NoSchedule" || t.effect === "NoExecute";
  if (pools.length > 0 && pools.every(([, pool]) => pool.taints.some(hard)))
    add(
      ["hardware"],
      `expected at least one pool without NoSchedule or NoExecute taints, found every pool tainted (${pools.map(([n]) => n).join(", ")}): the cluster's own add-ons (CoreDNS, the metrics agent) tolerate no taints and would never be scheduled`,
      "add a small untainted pool, or drop the taints of one pool",
    );
}

/**
 * kubecontrol reaches the cluster's API server from where it runs (the host an engineer or cron
 * uses), over the public endpoint: a private-only endpoint admits the nodes alone (the cluster
 * security group allows 443 from them), so every deploy would stop at the first Kubernetes step.
 */
function checkCluster(app: KubeAppParsed, add: Add): void {
  if (app.cluster.endpointAccess === "private")
    add(
      ["cluster", "endpointAccess"],
      `expected "public" or "public-and-private", found "private": kubecontrol talks to the API server from the host it runs on, and a private-only endpoint admits the cluster's nodes alone`,
      'use "public-and-private" (the nodes keep the private endpoint)',
    );
}

function checkComponents(app: KubeAppParsed, add: Add): void {
  const pools = Object.keys(app.hardware);
  for (const [name, comp] of Object.entries(app.components)) {
    const at = ["components", name];
    const pool = app.hardware[comp.pool];
    if (!pool) {
      const guess = nearest(comp.pool, pools);
      add(
        [...at, "pool"],
        `expected one of the pools in hardware (${pools.join(", ")}), found "${comp.pool}"`,
        guess ? `did you mean "${guess}"?` : "add the pool under hardware or fix the name",
      );
    } else if (comp.replicas > 0 && pool.max === 0) {
      add(
        [...at, "replicas"],
        `expected pool "${comp.pool}" to allow nodes, found max 0 for ${comp.replicas} replicas`,
      );
    }
    const containerNames = new Set<string>();
    const portNames = new Set<string>();
    const containerPorts = new Set<number>();
    comp.containers.forEach((c, i) => {
      if (containerNames.has(c.name))
        add([...at, "containers", i, "name"], `expected unique container names, found "${c.name}" twice`);
      containerNames.add(c.name);
      c.ports.forEach((p, j) => {
        if (portNames.has(p.name))
          add(
            [...at, "containers", i, "ports", j, "name"],
            `expected unique port names, found "${p.name}" twice`,
          );
        if (containerPorts.has(p.containerPort)) {
          add(
            [...at, "containers", i, "ports", j, "containerPort"],
            `expected each container port once, found ${p.containerPort} twice`,
          );
        }
        portNames.add(p.name);
        containerPorts.add(p.containerPort);
      });
      for (const env of Object.keys(c.envFromSecrets)) {
        if (env in c.env)
          add(
            [...at, "containers", i, "envFromSecrets", env],
            `expected ${env} in env or envFromSecrets, found it in both`,
          );
      }
    });
    for (const key of Object.keys(comp.labels)) {
      if (RESERVED_LABEL_PREFIXES.some((p) => key.startsWith(p))) {
        add(
          [...at, "labels", key],
          `expected a label of your own, found "${key}", which kubecontrol sets itself`,
        );
      }
    }
  }
}

function checkServices(app: KubeAppParsed, add: Add): void {
  const components = Object.keys(app.components);
  const nodePorts = new Map<number, string>();
  const balanced: string[] = [];
  for (const [name, svc] of Object.entries(app.services)) {
    const at = ["services", name];
    const comp = app.components[svc.component];
    if (!comp) {
      const guess = nearest(svc.component, components);
      add(
        [...at, "component"],
        `expected one of the components (${components.join(", ")}), found "${svc.component}"`,
        guess ? `did you mean "${guess}"?` : undefined,
      );
    } else {
      const ports = comp.containers.flatMap((c) => c.ports);
      const matches =
        typeof svc.targetPort === "number"
          ? ports.length === 0 || ports.some((p) => p.containerPort === svc.targetPort)
          : ports.some((p) => p.name === svc.targetPort);
      if (!matches) {
        const declared = ports.map((p) => `${p.name}:${p.containerPort}`).join(", ") || "none";
        add(
          [...at, "targetPort"],
          `expected a port that component "${svc.component}" declares (${declared}), found ${JSON.stringify(svc.targetPort)}`,
        );
      }
    }
    if (svc.nodePort !== undefined) {
      const other = nodePorts.get(svc.nodePort);
      if (other)
        add(
          [...at, "nodePort"],
          `expected a node port of its own, found ${svc.nodePort}, also used by service "${other}"`,
        );
      nodePorts.set(svc.nodePort, name);
    }
    if (svc.loadBalancer) {
      balanced.push(name);
      checkListeners(svc.loadBalancer, [...at, "loadBalancer"], add);
    }
  }
  if (balanced.length > 1) {
    add(
      ["services", balanced[1]!, "loadBalancer"],
      `expected one load-balanced service per app, found ${balanced.join(" and ")}`,
    );
  }
  if (app.dns && balanced.length === 0) {
    add(["dns"], "expected a service with a loadBalancer for the DNS record to point at, found none");
  }
  if (app.dns?.record && app.dns.record !== app.dns.zone && !app.dns.record.endsWith(`.${app.dns.zone}`)) {
    add(["dns", "record"], `expected a name inside the zone "${app.dns.zone}", found "${app.dns.record}"`);
  }
}

function checkListeners(
  lb: NonNullable<KubeAppParsed["services"][string]["loadBalancer"]>,
  at: (string | number)[],
  add: Add,
): void {
  const ports = new Set<number>();
  lb.listeners.forEach((l, i) => {
    const where = [...at, "listeners", i];
    if (ports.has(l.port)) add([...where, "port"], `expected each listener port once, found ${l.port} twice`);
    ports.add(l.port);
    const layer7 = l.protocol === "HTTP" || l.protocol === "HTTPS";
    if (lb.type === "application" && !layer7) {
      add(
        [...where, "protocol"],
        `expected HTTP or HTTPS on an application load balancer, found ${l.protocol}`,
      );
    }
    if (lb.type === "network" && layer7)
      add([...where, "protocol"], `expected TCP or TLS on a network load balancer, found ${l.protocol}`);
    const secure = l.protocol === "HTTPS" || l.protocol === "TLS";
    if (secure && !l.certificate)
      add(
        [...where, "certificate"],
        `expected a certificate domain for a ${l.protocol} listener, found none`,
      );
    if (!secure && l.certificate)
      add(
        [...where, "certificate"],
        `expected no certificate on a ${l.protocol} listener, found "${l.certificate}"`,
      );
  });
}

function checkDeploy(app: KubeAppParsed, add: Add): void {
  app.deploy.verify.http.forEach((check, i) => {
    if (!app.services[check.service]) {
      const guess = nearest(check.service, Object.keys(app.services));
      add(
        ["deploy", "verify", "http", i, "service"],
        `expected one of the services (${Object.keys(app.services).join(", ") || "none"}), found "${check.service}"`,
        guess ? `did you mean "${guess}"?` : undefined,
      );
    } else if (!app.services[check.service]?.loadBalancer) {
      const balanced = Object.keys(app.services).filter((s) => app.services[s]?.loadBalancer);
      add(
        ["deploy", "verify", "http", i, "service"],
        `expected a service with a load balancer (checks go through it), found "${check.service}", which has none`,
        balanced.length > 0 ? `check "${balanced[0]}" instead` : "give the service a loadBalancer",
      );
    }
  });
  const steps = app.deploy.dnsSteps;
  if (steps) {
    const ascending = steps.every((s, i) => i === 0 || s > steps[i - 1]!);
    if (!ascending || steps.at(-1) !== 100) {
      add(
        ["deploy", "dnsSteps"],
        `expected ascending percentages ending at 100, found [${steps.join(", ")}]`,
      );
    }
  }
}
