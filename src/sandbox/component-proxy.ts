import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { nodeEntry } from "./node-entry.js";
import { startProcess } from "./processes.js";

/** The recording, fault-injecting proxy in front of moto: the AWS_ENDPOINT_URL that `sandbox env` gives. */
export const proxyComponent: SandboxComponent = {
  name: "proxy",
  description: "AWS endpoint for clients: counts calls and injects faults, forwards to moto",
  readyTimeoutMs: 15_000,
  sources: () => [path.dirname(nodeEntry("proxy/main").args.at(-1)!)],
  async start(ctx) {
    const moto = ctx.started.moto;
    if (!moto?.port)
      throw new KubecontrolError("INTERNAL", "the proxy starts after moto, whose port is unknown");
    const portFile = path.join(ctx.paths.runDir, "proxy.port");
    const entry = nodeEntry("proxy/main");
    const record = await startProcess({
      name: "proxy",
      command: entry.command,
      args: [
        ...entry.args,
        "--target-port",
        String(moto.port),
        "--port-file",
        portFile,
        "--sandbox",
        ctx.paths.dir,
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
    return probe(`${record.address}/_proxy/health`);
  },
};
