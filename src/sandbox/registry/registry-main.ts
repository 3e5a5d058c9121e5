/**
 * The registry proxy component, run as its own process by `sandbox up`:
 *   node dist/sandbox/registry/registry-main.js --sandbox-dir DIR --moto-url URL --upstream HOST:PORT
 *     --port-file FILE [--region R]
 * Serves ECR's registry address (HTTPS and HTTP on one loopback port) in front of docker-registry,
 * and tells moto that address so repositoryUri and proxyEndpoint name it.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { ECRClient } from "@aws-sdk/client-ecr";
import { logEvent } from "../k8s/log.js";
import { MotoAdmin } from "../k8s/moto-admin.js";
import { motoSdkConfig } from "../k8s/moto-sdk-config.js";
import { EcrMirror } from "./ecr-mirror.js";
import { loopbackCertificate } from "./loopback-cert.js";
import { registryProxy } from "./registry-proxy.js";

const { values } = parseArgs({
  options: {
    "sandbox-dir": { type: "string" },
    "moto-url": { type: "string" },
    upstream: { type: "string" },
    "port-file": { type: "string" },
    region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
  },
});
const { "sandbox-dir": sandboxDir, "moto-url": motoUrl, upstream } = values;
if (!sandboxDir || !motoUrl || !upstream) {
  throw new Error("registry-main: --sandbox-dir, --moto-url and --upstream are required");
}
const log = (event: string, fields: Record<string, unknown>) => logEvent("registry-proxy", event, fields);
const ecr = new ECRClient(motoSdkConfig(motoUrl, values.region ?? "us-east-1"));
const tls = await loopbackCertificate(`${sandboxDir}/ca`, `${sandboxDir}/registry/tls`);
// A directory holding only the CA as ca.crt, for buildah/skopeo --cert-dir (which read any *.key
// there as a client key, so the sandbox's ca/ directory itself cannot serve).
await mkdir(`${sandboxDir}/registry/cert-dir`, { recursive: true });
await copyFile(`${sandboxDir}/ca/ca.pem`, `${sandboxDir}/registry/cert-dir/ca.crt`);
const server = registryProxy({ upstream, mirror: new EcrMirror(ecr), tls, log });
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(0, "127.0.0.1", () => resolve());
});
const { port } = server.address() as AddressInfo;
await new MotoAdmin(motoUrl).setConfig({ registryHost: `127.0.0.1:${port}`, registryScheme: "https" });
if (values["port-file"]) await writeFile(values["port-file"], String(port));
log("started", { address: `127.0.0.1:${port}`, upstream });

process.on("SIGTERM", () => {
  server.close();
  process.removeAllListeners("SIGTERM");
  process.kill(process.pid, "SIGTERM");
});
