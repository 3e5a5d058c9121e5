/**
 * The load balancer component, run as its own process by `sandbox up`:
 *   node dist/sandbox/lb/lb-main.js --sandbox-dir DIR --moto-url URL --port-file FILE [--region R]
 * Serves every ELBv2 load balancer on its loopback DNSName, judges target health from the
 * clusters (Ready pods behind the node port) and publishes it to moto for DescribeTargetHealth.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { ACMClient } from "@aws-sdk/client-acm";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { adminKubeconfigPath } from "../k8s/control-plane.js";
import { logEvent } from "../k8s/log.js";
import { MotoAdmin } from "../k8s/moto-admin.js";
import { motoSdkConfig } from "../k8s/moto-sdk-config.js";
import { instanceClusters } from "../k8s/nodes/aws-instances.js";
import { pollLoop } from "../k8s/poll-loop.js";
import { withTimeout } from "../k8s/with-timeout.js";
import { type LoopbackListener, listLoopbackListeners, listTargets } from "./lb-inventory.js";
import { ListenerServers } from "./listener-servers.js";
import { type ClusterServing, judgeTarget, readClusterServing, type TargetVerdict } from "./target-health.js";

const { values } = parseArgs({
  options: {
    "sandbox-dir": { type: "string" },
    "moto-url": { type: "string" },
    "port-file": { type: "string" },
    region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
  },
});
const { "sandbox-dir": sandboxDir, "moto-url": motoUrl } = values;
if (!sandboxDir || !motoUrl) throw new Error("lb-main: --sandbox-dir and --moto-url are required");

const log = (event: string, fields: Record<string, unknown>) => logEvent("load-balancers", event, fields);
const aws = motoSdkConfig(motoUrl, values.region ?? "us-east-1");
const elb = new ElasticLoadBalancingV2Client(aws);
const acm = new ACMClient(aws);
const autoscaling = new AutoScalingClient(aws);
const admin = new MotoAdmin(motoUrl);

/** Last verdicts by target group, then by "instance:port". */
const verdicts = new Map<string, Map<string, TargetVerdict>>();
const published = new Map<string, string>();
let problems: string[] = ["not polled yet"];

function listenerHealth(listener: LoopbackListener): { healthy: boolean; target?: string } {
  for (const arn of listener.targetGroupArns) {
    for (const [target, verdict] of verdicts.get(arn) ?? [])
      if (verdict.state === "healthy") return { healthy: true, target };
  }
  return { healthy: false };
}

const servers = new ListenerServers(`${sandboxDir}/ca`, listenerHealth, log);
let announced = false;

async function tick(): Promise<void> {
  const found: string[] = [];
  try {
    // New load balancers get a loopback DNSName of their own once moto knows the sandbox serves them.
    if (!announced) announced = await admin.setConfig({ loadBalancerLoopback: true }).then(() => true);
    const listeners = await listLoopbackListeners(elb, acm);
    const groups = await listTargets(elb, [...new Set(listeners.flatMap((l) => l.targetGroupArns))]);
    const clusterOf = groups.some((g) => g.targets.length > 0)
      ? await instanceClusters(autoscaling)
      : new Map();
    const serving = new Map<string, ClusterServing | undefined>();
    for (const cluster of new Set(clusterOf.values())) {
      const kubeconfig = adminKubeconfigPath(`${sandboxDir}/k8s`, cluster);
      serving.set(
        cluster,
        existsSync(kubeconfig)
          ? await withTimeout(readClusterServing(kubeconfig), 3000, `cluster ${cluster}`).catch(
              () => undefined,
            )
          : undefined,
      );
    }
    for (const group of groups) {
      const byTarget = new Map<string, TargetVerdict>();
      const report = group.targets.map((t) => {
        const verdict = judgeTarget(t.id, t.port, serving.get(clusterOf.get(t.id) ?? ""));
        byTarget.set(`${t.id}:${t.port}`, verdict);
        return { id: t.id, port: t.port, ...verdict };
      });
      verdicts.set(group.targetGroupArn, byTarget);
      const signature = JSON.stringify(report);
      if (report.length > 0 && published.get(group.targetGroupArn) !== signature) {
        await admin.publishTargetHealth({ targetGroupArn: group.targetGroupArn, targets: report });
        published.set(group.targetGroupArn, signature);
        log("target-health.published", { targetGroup: group.targetGroupArn, targets: report });
      }
    }
    found.push(...(await servers.reconcile(listeners)));
  } catch (err) {
    found.push(`moto: ${String(err)}`);
  }
  problems = found;
}

// GET / is the component's health; GET /listeners says which addresses this sandbox serves (tests
// use it to tell their load balancer from another sandbox's on the same loopback address).
const health = createServer((req, res) => {
  if (req.url === "/listeners") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ serving: servers.serving(), problems }));
    return;
  }
  res.writeHead(problems.length > 0 ? 503 : 200, { "content-type": "text/plain" });
  res.end(problems.length > 0 ? problems.join("; ") : "ok");
});
await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
const { port } = health.address() as AddressInfo;
const loop = pollLoop(tick, 1000);
if (values["port-file"]) await writeFile(values["port-file"], String(port));
log("started", { health: `http://127.0.0.1:${port}` });

process.on("SIGTERM", () => {
  void (async () => {
    await loop.stop();
    await servers.close();
    health.close();
    process.removeAllListeners("SIGTERM");
    process.kill(process.pid, "SIGTERM");
  })();
});
