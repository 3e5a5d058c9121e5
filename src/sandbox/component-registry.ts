import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import { probe } from "./admin-client.js";
import type { SandboxComponent } from "./components.js";
import { entryDir, startNodeComponent } from "./node-entry.js";
import { startProcess } from "./processes.js";

const run = promisify(execFile);

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(path.join(dir, cmd)));
}

/** A free loopback port (docker-registry cannot report the port it bound, so it is told one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Debian's docker-registry, storing under the sandbox directory, on loopback behind the registry proxy. */
export const registryComponent: SandboxComponent = {
  name: "registry",
  description: "docker-registry (Distribution 2.8) holding the images of ECR's repositories",
  readyTimeoutMs: 15_000,
  async start(ctx) {
    const missing = ["docker-registry", "buildah", "skopeo"].filter((cmd) => !onPath(cmd));
    if (missing.length > 0) ctx.note(`installing ${missing.join(", ")} with apt (once)`);
    try {
      await run(path.join(ctx.root, "sandbox", "setup-apt.sh"), [], { timeout: 10 * 60_000 });
    } catch (err) {
      throw new KubecontrolError("PREREQUISITE_MISSING", "docker-registry, buildah or skopeo is missing", {
        hint: `run ${path.join(ctx.root, "sandbox", "setup-apt.sh")} (as root), or apt-get install -y docker-registry buildah skopeo`,
        cause: err,
      });
    }
    const dir = path.join(ctx.paths.dir, "registry");
    mkdirSync(path.join(dir, "data"), { recursive: true });
    const port = await freePort();
    const config = path.join(dir, "config.yml");
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log: { level: warn }",
        `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} }, delete: { enabled: true } }`,
        // Relative Location headers: clients reach the registry through the proxy's address.
        `http: { addr: 127.0.0.1:${port}, relativeurls: true }`,
        "",
      ].join("\n"),
    );
    const record = await startProcess({
      name: "registry",
      command: "docker-registry",
      args: ["serve", config],
      logDir: ctx.paths.logDir,
      runDir: ctx.paths.runDir,
      marker: ctx.paths.dir,
    });
    return { ...record, port, address: `http://127.0.0.1:${port}` };
  },
  health(record) {
    return probe(`${record.address}/v2/`);
  },
};

/** The registry proxy (src/sandbox/registry/registry-main.ts): ECR's registry address. */
export const registryProxyComponent: SandboxComponent = {
  name: "registry-proxy",
  description: "ECR's registry address: checks ECR tokens, mirrors pushes into ECR (moto)",
  readyTimeoutMs: 15_000,
  sources: () => [entryDir("registry/registry-main"), entryDir("k8s/watcher-main")],
  async start(ctx) {
    const { moto, registry } = ctx.started;
    if (!moto?.address || !registry?.port) {
      throw new KubecontrolError("INTERNAL", "the registry proxy starts after moto and the registry");
    }
    const record = await startNodeComponent(ctx, "registry-proxy", "registry/registry-main", [
      "--sandbox-dir",
      ctx.paths.dir,
      "--moto-url",
      moto.address,
      "--upstream",
      `127.0.0.1:${registry.port}`,
      "--region",
      ctx.region,
    ]);
    return { ...record, address: `127.0.0.1:${record.port}` };
  },
  health(record) {
    return probe(`http://${record.address}/healthz`);
  },
};
