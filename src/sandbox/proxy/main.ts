/**
 * Entry point of the sandbox proxy process, started by `kubecontrol sandbox up`:
 *   node main.js --target-port <moto port> --port-file <file> [--host 127.0.0.1] [--port 0]
 * Binds (port 0 picks a free one), writes the bound port to --port-file, serves until SIGTERM.
 */
import { renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SandboxProxy } from "./server.js";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "target-host": { type: "string", default: "127.0.0.1" },
    "target-port": { type: "string" },
    "port-file": { type: "string" },
    // Only there so /proc/<pid>/cmdline names the sandbox this process belongs to.
    sandbox: { type: "string" },
  },
});

if (!values["target-port"]) throw new Error("sandbox proxy: --target-port is required");

const proxy = new SandboxProxy({ host: values["target-host"]!, port: Number(values["target-port"]) });
const server = proxy.createServer();
server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  if (values["port-file"]) {
    writeFileSync(`${values["port-file"]}.tmp`, String(port));
    renameSync(`${values["port-file"]}.tmp`, values["port-file"]);
  }
  process.stdout.write(
    `sandbox proxy listening on http://${values.host}:${port} -> ${values["target-host"]}:${values["target-port"]}\n`,
  );
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  // Closing the server and the upstream sockets empties the event loop, and Node exits.
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    proxy.close();
  });
}
