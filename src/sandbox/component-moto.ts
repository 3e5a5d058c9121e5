import path from "node:path";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { startProcess } from "./processes.js";
import { resolvePython } from "./python.js";

/** moto behind kubecontrol's launcher (sandbox/moto/launcher.py): the sandbox's AWS, and its admin API. */
export const motoComponent: SandboxComponent = {
  name: "moto",
  description: "AWS (moto 5.2.1 with the sandbox's mends) and the /_sandbox admin API",
  readyTimeoutMs: 90_000,
  sources: (ctx) => [path.join(ctx.root, "sandbox", "moto")],
  async start(ctx) {
    const python = await resolvePython(ctx.root, ctx.cacheDir, ctx.note);
    const portFile = path.join(ctx.paths.runDir, "moto.port");
    const record = await startProcess({
      name: "moto",
      command: python,
      args: [
        path.join(ctx.root, "sandbox", "moto", "launcher.py"),
        "--state-dir",
        ctx.paths.dir,
        "--port-file",
        portFile,
        "--region",
        ctx.region,
      ],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
      logDir: ctx.paths.logDir,
      runDir: ctx.paths.runDir,
      marker: ctx.paths.dir,
      portFile,
      startTimeoutMs: 60_000,
    });
    return { ...record, address: `http://127.0.0.1:${record.port}` };
  },
  async health(record) {
    const result = await probe(`${record.address}/_sandbox/health`);
    // 500 means seeding failed (503: still seeding): say so at once instead of timing out.
    return result.detail?.startsWith("500") ? { ...result, fatal: true } : result;
  },
};
