import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { nodeEntry } from "./node-entry.js";
import { startProcess } from "./processes.js";

/** The load balancer server (src/sandbox/lb/lb-main.ts): ELBv2 listeners on loopback, truthful target health. */
export const loadBalancersComponent: SandboxComponent = {
  name: "load-balancers",
  description: "serves each ELBv2 load balancer on its loopback DNSName; target health from the clusters",
  readyTimeoutMs: 15_000,
  // The server imports the watcher's AWS and Kubernetes helpers too.
  sources: () => [
    path.dirname(nodeEntry("lb/lb-main").args.at(-1)!),
    path.dirname(nodeEntry("k8s/watcher-main").args.at(-1)!),
  ],
  async start(ctx) {
    const moto = ctx.started.moto;
    if (!moto?.address) throw new KubecontrolError("INTERNAL", "the load balancer server starts after moto");
    const portFile = path.join(ctx.paths.runDir, "load-balancers.port");
    const entry = nodeEntry("lb/lb-main");
    const record = await startProcess({
      name: "load-balancers",
      command: entry.command,
      args: [
        ...entry.args,
        "--sandbox-dir",
        ctx.paths.dir,
        "--moto-url",
        moto.address,
        "--port-file",
        portFile,
        "--region",
        ctx.region,
      ],
      cwd: ctx.root,
      logDir: ctx.paths.logDir,
      runDir: ctx.paths.runDir,
      marker: ctx.paths.dir,
      portFile,
    });
    return { ...record, address: `http://127.0.0.1:${record.port}` };
  },
  health(record) {
    return probe(record.address ?? "");
  },
};
