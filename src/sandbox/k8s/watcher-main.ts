/**
 * The cluster watcher component, run as its own process by `sandbox up`:
 *   node dist/sandbox/k8s/watcher-main.js --sandbox-dir DIR --moto-url URL [--bin-dir DIR]
 *     [--max-control-planes N] [--webhook-port N] [--region R]
 *     [--port-file FILE]
 * Starts a control plane for every EKS cluster in moto, serves their token webhook (and GET
 * /healthz), and turns tagged Auto Scaling Group instances into nodes. The webhook's port goes to
 * --port-file once it listens. SIGTERM stops every control plane it started.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { NamespaceBinding } from "./access-grants.js";
import { ensureBinaries, kubeVersion } from "./assets.js";
import { ClusterWatcher } from "./cluster-watcher.js";
import { logEvent } from "./log.js";
import { MotoAdmin } from "./moto-admin.js";
import { motoSdkConfig } from "./moto-sdk-config.js";
import { ensureNamespaceBindings } from "./namespace-bindings.js";
import { NodeSync } from "./nodes/node-sync-loop.js";
import { pollLoop } from "./poll-loop.js";
import { startTokenWebhook } from "./token-webhook.js";
import { watcherProblems, writeWatcherStatus } from "./watcher-status.js";

const { values } = parseArgs({
  options: {
    "sandbox-dir": { type: "string", default: process.env.KUBECONTROL_SANDBOX },
    "moto-url": { type: "string" },
    "bin-dir": { type: "string" },
    "max-control-planes": {
      type: "string",
      default: process.env.KUBECONTROL_SANDBOX_MAX_CONTROL_PLANES ?? "4",
    },
    "webhook-port": { type: "string" },
    region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
    "port-file": { type: "string" },
  },
});
const sandboxDir = values["sandbox-dir"];
const motoUrl = values["moto-url"];
if (!sandboxDir || !motoUrl) throw new Error("watcher-main: --sandbox-dir and --moto-url are required");

const log = (event: string, fields: Record<string, unknown>) => logEvent("cluster-watcher", event, fields);
const k8sDir = `${sandboxDir}/k8s`;
await mkdir(k8sDir, { recursive: true });
const binDir = values["bin-dir"] ?? (await ensureBinaries());
const version = kubeVersion();
const admin = new MotoAdmin(motoUrl);
const aws = motoSdkConfig(motoUrl, values.region ?? "us-east-1");
const ec2 = new EC2Client(aws);
const autoscaling = new AutoScalingClient(aws);

// The webhook's port is kept across restarts: running kube-apiservers read its URL only at start.
const portFile = `${k8sDir}/webhook-port`;
const savedPort = Number.parseInt(await readFile(portFile, "utf8").catch(() => ""), 10);
const webhookDeps = {
  awsEndpoint: motoUrl,
  clusterAccess: (cluster: string) => admin.clusterAccess(cluster),
  async privateDnsName(instanceId: string) {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.[0]?.Instances?.[0]?.PrivateDnsName;
  },
  log,
  ensureBindings: (cluster: string, bindings: NamespaceBinding[]) =>
    ensureNamespaceBindings(k8sDir, cluster, bindings),
  problems: (): string[] => watcherProblems(watcher.status),
};
const webhook = await startTokenWebhook(webhookDeps, Number(values["webhook-port"] ?? savedPort) || 0).catch(
  () => startTokenWebhook(webhookDeps, 0),
);
await writeFile(portFile, webhook.url.split(":").pop() ?? "");

let writing = Promise.resolve();
const watcher = new ClusterWatcher({
  host: { k8sDir, binDir, kubeVersion: version, webhookBaseUrl: webhook.url },
  admin,
  maxControlPlanes: Number.parseInt(values["max-control-planes"] ?? "4", 10),
  log,
  onChange: (status) => {
    writing = writing.then(() => writeWatcherStatus(k8sDir, status)).catch(() => undefined);
  },
});
const nodes = new NodeSync({ k8sDir, kubeVersion: version, autoscaling, ec2, status: watcher.status, log });

// moto keeps a cluster CREATING until a control plane is published, once it knows one will be.
let announced = false;
const clusterLoop = pollLoop(async () => {
  if (!announced)
    announced = await admin.setConfig({ requireControlPlane: true }).then(
      () => true,
      () => false,
    );
  await watcher.tick();
}, 300);
const nodeLoop = pollLoop(() => nodes.tick(), 1000);
if (values["port-file"]) await writeFile(values["port-file"], new URL(webhook.url).port);
log("started", { webhook: webhook.url, binDir, k8sDir, moto: motoUrl });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log("stopping", { signal });
  await Promise.all([clusterLoop.stop(), nodeLoop.stop()]);
  await watcher.shutdown();
  webhook.server.close();
  webhook.server.closeAllConnections();
  log("stopped", {});
  // Keep-alive sockets of the AWS and Kubernetes clients would hold the process open: cleanup is
  // done, so let the signal take its default course.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
