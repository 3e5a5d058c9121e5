import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { entryDir, startNodeComponent } from "./node-entry.js";

/** The recording, fault-injecting proxy in front of moto: the AWS_ENDPOINT_URL that `sandbox env` gives. */
export const proxyComponent: SandboxComponent = {
  name: "proxy",
  description: "AWS endpoint for clients: counts calls and injects faults, forwards to moto",
  readyTimeoutMs: 15_000,
  sources: () => [entryDir("proxy/main")],
  async start(ctx) {
    const moto = ctx.started.moto;
    if (!moto?.port)
      throw new KubecontrolError("INTERNAL", "the proxy starts after moto, whose port is unknown");
    const record = await startNodeComponent(ctx, "proxy", "proxy/main", [
      "--target-port",
      String(moto.port),
      "--sandbox",
      ctx.paths.dir,
    ]);
    return { ...record, address: `http://127.0.0.1:${record.port}` };
  },
  health(record) {
    return probe(`${record.address}/_proxy/health`);
  },
};
