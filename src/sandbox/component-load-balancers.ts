import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { entryDir, startNodeComponent } from "./node-entry.js";

/** The load balancer server (src/sandbox/lb/lb-main.ts): ELBv2 listeners on loopback, truthful target health. */
export const loadBalancersComponent: SandboxComponent = {
  name: "load-balancers",
  description: "serves each ELBv2 load balancer on its loopback DNSName; target health from the clusters",
  readyTimeoutMs: 15_000,
  // The server imports the watcher's AWS and Kubernetes helpers too.
  sources: () => [entryDir("lb/lb-main"), entryDir("k8s/watcher-main")],
  async start(ctx) {
    const moto = ctx.started.moto;
    if (!moto?.address) throw new KubecontrolError("INTERNAL", "the load balancer server starts after moto");
    const record = await startNodeComponent(ctx, "load-balancers", "lb/lb-main", [
      "--sandbox-dir",
      ctx.paths.dir,
      "--moto-url",
      moto.address,
      "--region",
      ctx.region,
    ]);
    return { ...record, address: `http://127.0.0.1:${record.port}` };
  },
  health(record) {
    return probe(record.address ?? "");
  },
};
