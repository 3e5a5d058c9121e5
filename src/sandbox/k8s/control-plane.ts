import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { parse } from "yaml";
import { KubecontrolError } from "../../errors.js";
import { lastLines, sandboxAsset } from "./assets.js";
import { binariesIn, kwokctlConfiguration, webhookKubeconfig } from "./kwokctl-config.js";
import { freePorts, waitForExit } from "./processes-and-ports.js";

const run = promisify(execFile);

/** Where one sandbox keeps its control planes, and what they run. */
export interface ControlPlaneHost {
  /** Private to the sandbox: kwokctl's KWOK_WORKDIR and the per-cluster files live below it. */
  k8sDir: string;
  binDir: string;
  kubeVersion: string;
  /** Base URL of the token webhook; the cluster name is appended as the last path segment. */
  webhookBaseUrl: string;
}

/** What EKS publishes about a running control plane. */
export interface ControlPlaneEndpoint {
  endpoint: string;
  /** Base64 of the CA's PEM, as EKS's certificateAuthority.data. */
  certificateAuthority: string;
}

const workdir = (host: ControlPlaneHost) => `${host.k8sDir}/kwok`;
const clusterDir = (host: ControlPlaneHost, name: string) => `${host.k8sDir}/clusters/${name}`;

/** The admin kubeconfig (client certificate of system:masters) of a sandbox control plane. */
export function adminKubeconfigPath(k8sDir: string, name: string): string {
  return `${k8sDir}/clusters/${name}/admin.kubeconfig`;
}

async function kwokctl(host: ControlPlaneHost, args: string[], timeoutMs: number): Promise<string> {
  const env = {
    ...process.env,
    KWOK_WORKDIR: workdir(host),
    // The machine's own kubectl may be outside the version skew; the sandbox's comes first.
    PATH: `${host.binDir}:${process.env.PATH ?? ""}`,
  };
  const { stdout } = await run(`${host.binDir}/kwokctl`, args, {
    env,
    timeout: timeoutMs,
    maxBuffer: 8 << 20,
  });
  return stdout;
}

/**
 * Starts the control plane of one EKS cluster (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok) with kwokctl's binary runtime, applies the default stages and the RBAC of
 * the access policies, and returns its endpoint and CA. A leftover of a failed start is removed first.
 */
export async function createControlPlane(
  host: ControlPlaneHost,
  name: string,
): Promise<ControlPlaneEndpoint> {
  await deleteControlPlane(host, name);
  const dir = clusterDir(host, name);
  await mkdir(dir, { recursive: true });
  const webhookFile = `${dir}/token-webhook.kubeconfig`;
  await writeFile(webhookFile, webhookKubeconfig(`${host.webhookBaseUrl}/${encodeURIComponent(name)}`));
  const configFile = `${dir}/kwokctl.yaml`;
  // kwokctl scans for free ports downward from 32767 in each process, so two clusters created at
  // once pick the same ones; ports the kernel hands out are distinct. That goes for the scheduler
  // and the controller manager too: one that loses the race for its port exits, and the cluster
  // then never schedules a pod (or never makes its default ServiceAccount).
  const [apiserverPort, etcdPort, etcdPeerPort, kwokPort, schedulerPort, controllerManagerPort] =
    await freePorts(6);
  const config = {
    binaries: binariesIn(host.binDir),
    webhookConfigFile: webhookFile,
    kubeVersion: host.kubeVersion,
    etcdPeerPort: etcdPeerPort!,
  };
  await writeFile(configFile, kwokctlConfiguration(config));
  const kubeconfig = adminKubeconfigPath(host.k8sDir, name);
  try {
    await kwokctl(
      host,
      [
        "create",
        "cluster",
        "--name",
        name,
        "--runtime",
        "binary",
        "--config",
        configFile,
        "--kubeconfig",
        kubeconfig,
        "--kube-apiserver-binary",
        config.binaries.kubeApiserver,
        "--kube-controller-manager-binary",
        config.binaries.kubeControllerManager,
        "--kube-scheduler-binary",
        config.binaries.kubeScheduler,
        "--kwok-controller-binary",
        config.binaries.kwok,
        "--etcd-binary",
        config.binaries.etcd,
        "--kube-apiserver-port",
        String(apiserverPort),
        "--etcd-port",
        String(etcdPort),
        "--controller-port",
        String(kwokPort),
        "--kube-scheduler-port",
        String(schedulerPort),
        "--kube-controller-manager-port",
        String(controllerManagerPort),
        "--wait",
        "60s",
      ],
      120_000,
    );
    await kubectlApply(host, name, [
      sandboxAsset("k8s/stages/default.yaml"),
      sandboxAsset("k8s/access-policies.yaml"),
    ]);
    await waitForDefaultServiceAccount(host, name);
    return await readEndpoint(kubeconfig);
  } catch (err) {
    const detail = lastLines((err as { stderr?: string }).stderr ?? (err as Error).message ?? String(err));
    throw new KubecontrolError("SANDBOX", `control plane for EKS cluster ${name} did not start: ${detail}`, {
      cause: err,
      retryable: true,
      hint: `see the logs under ${workdir(host)}/clusters/${name}/logs`,
    });
  }
}

/**
 * Waits until the controller manager has made the `default` ServiceAccount. EKS reports ACTIVE
 * only once the control plane is whole; published earlier, a client's first pods are refused
 * ("serviceaccount default not found") and the ReplicaSet controller backs off for tens of
 * seconds on a loaded machine.
 */
async function waitForDefaultServiceAccount(host: ControlPlaneHost, name: string): Promise<void> {
  const args = [
    "--kubeconfig",
    adminKubeconfigPath(host.k8sDir, name),
    "get",
    "serviceaccount",
    "default",
    "-n",
    "default",
  ];
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await run(`${host.binDir}/kubectl`, args, { timeout: 10_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Applies manifest files to a sandbox control plane with its admin kubeconfig (server-side apply). */
export async function kubectlApply(host: ControlPlaneHost, name: string, files: string[]): Promise<void> {
  const args = [
    "--kubeconfig",
    adminKubeconfigPath(host.k8sDir, name),
    "apply",
    "--server-side",
    "--force-conflicts",
  ];
  for (const file of files) args.push("-f", file);
  await run(`${host.binDir}/kubectl`, args, { timeout: 60_000, maxBuffer: 8 << 20 });
}

async function readEndpoint(kubeconfigFile: string): Promise<ControlPlaneEndpoint> {
  const doc = parse(await readFile(kubeconfigFile, "utf8")) as {
    clusters?: {
      cluster?: { server?: string; "certificate-authority"?: string; "certificate-authority-data"?: string };
    }[];
  };
  const cluster = doc.clusters?.[0]?.cluster;
  if (!cluster?.server) throw new Error(`${kubeconfigFile} names no server`);
  const caData =
    cluster["certificate-authority-data"] ??
    (cluster["certificate-authority"]
      ? (await readFile(cluster["certificate-authority"])).toString("base64")
      : undefined);
  if (!caData) throw new Error(`${kubeconfigFile} names no certificate authority`);
  return { endpoint: cluster.server, certificateAuthority: caData };
}

/** Stops and removes a control plane and its files; nothing happens when there is none. */
export async function deleteControlPlane(host: ControlPlaneHost, name: string): Promise<void> {
  const known = await listControlPlanes(host);
  if (known.includes(name)) {
    const pids = await controlPlanePids(host, name);
    await kwokctl(
      host,
      ["delete", "cluster", "--name", name, "--kubeconfig", adminKubeconfigPath(host.k8sDir, name)],
      60_000,
    );
    // kwokctl signals the processes and returns at once; a deleted cluster must leave none behind.
    await waitForExit(pids, 10_000);
  }
  await rm(clusterDir(host, name), { recursive: true, force: true });
}

async function controlPlanePids(host: ControlPlaneHost, name: string): Promise<number[]> {
  const dir = `${workdir(host)}/clusters/${name}/pids`;
  const files = await readdir(dir).catch(() => [] as string[]);
  const pids = await Promise.all(
    files.map(async (f) => Number.parseInt(await readFile(`${dir}/${f}`, "utf8"), 10)),
  );
  return pids.filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Names of the control planes kwokctl knows in this sandbox. */
export async function listControlPlanes(host: ControlPlaneHost): Promise<string[]> {
  try {
    return await readdir(`${workdir(host)}/clusters`);
  } catch {
    return [];
  }
}
