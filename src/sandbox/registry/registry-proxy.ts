import {
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server } from "node:net";
import { dualProtocolServer } from "./dual-protocol.js";
import type { EcrMirror } from "./ecr-mirror.js";

export interface RegistryProxyOptions {
  /** host:port of the docker-registry behind the proxy (plain HTTP on loopback). */
  upstream: string;
  mirror: EcrMirror;
  tls: { cert: string; key: string };
  log(event: string, fields: Record<string, unknown>): void;
}

const MAX_MANIFEST_BYTES = 4 << 20;

/** Splits /v2/<name>/(manifests|blobs|tags)/<rest> into the repository name and the rest. */
export function parseRegistryPath(
  path: string,
): { repository: string; kind: string; reference: string } | undefined {
  const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\/(.*)$/.exec(path.split("?")[0] ?? "");
  return m ? { repository: m[1]!, kind: m[2]!, reference: m[3]! } : undefined;
}

function registryError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...extra });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

/**
 * ECR's registry endpoint in the sandbox: checks the ECR token (basic auth AWS:<token>), refuses
 * repositories ECR does not have, forwards to docker-registry, and mirrors each pushed manifest
 * into ECR with PutImage (passing the registry's digest) before it answers the push.
 */
export function registryProxy(options: RegistryProxyOptions): Server {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(options, req, res).catch((err: unknown) => {
      options.log("registry-proxy.error", { method: req.method, url: req.url, error: String(err) });
      if (!res.headersSent) registryError(res, 500, "UNKNOWN", String(err));
      else res.destroy();
    });
  };
  return dualProtocolServer(createHttpsServer(options.tls, handler), createHttpServer(handler));
}

async function handle(
  options: RegistryProxyOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = req.url ?? "/";
  if (path === "/healthz") {
    res.writeHead(200).end("ok");
    return;
  }
  if (!(await options.mirror.authorized(req.headers.authorization))) {
    const realm = `Basic realm="${req.headers.host ?? "ecr"}",service="ecr.amazonaws.com"`;
    registryError(res, 401, "DENIED", "Your authorization token has expired. Reauthenticate and try again.", {
      "www-authenticate": realm,
    });
    return;
  }
  const target = parseRegistryPath(path);
  if (target && !(await options.mirror.repositoryExists(target.repository))) {
    registryError(
      res,
      404,
      "NAME_UNKNOWN",
      `The repository with name '${target.repository}' does not exist in the registry`,
    );
    return;
  }
  const isManifestPush = req.method === "PUT" && target?.kind === "manifests";
  if (!isManifestPush) {
    forward(options, req, res);
    return;
  }
  const body = await readBody(req, MAX_MANIFEST_BYTES);
  const upstream = await send(options, req, body);
  const digest = String(upstream.headers["docker-content-digest"] ?? "");
  if (upstream.statusCode === 201 && digest && target) {
    const mediaType = String(
      req.headers["content-type"] ?? "application/vnd.docker.distribution.manifest.v2+json",
    );
    await options.mirror.putImage(
      target.repository,
      target.reference,
      body.toString("utf8"),
      mediaType,
      digest,
    );
    options.log("registry-proxy.mirrored", {
      repository: target.repository,
      reference: target.reference,
      digest,
    });
  }
  res.writeHead(upstream.statusCode ?? 502, upstream.headers);
  res.end(upstream.body);
}

function upstreamRequest(options: RegistryProxyOptions, req: IncomingMessage) {
  const [hostname, port] = options.upstream.split(":");
  const headers = { ...req.headers };
  delete headers.authorization;
  return request({ hostname, port: Number(port), method: req.method, path: req.url, headers });
}

function forward(options: RegistryProxyOptions, req: IncomingMessage, res: ServerResponse): void {
  const out = upstreamRequest(options, req);
  out.on("response", (upstream) => {
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    upstream.pipe(res);
  });
  out.on("error", (err) => {
    if (!res.headersSent) registryError(res, 502, "UNAVAILABLE", `registry unreachable: ${err.message}`);
    else res.destroy();
  });
  req.pipe(out);
}

function send(options: RegistryProxyOptions, req: IncomingMessage, body: Buffer) {
  return new Promise<{ statusCode?: number; headers: IncomingMessage["headers"]; body: Buffer }>(
    (resolve, reject) => {
      const out = upstreamRequest(options, req);
      out.on("response", async (upstream) => {
        try {
          resolve({
            statusCode: upstream.statusCode,
            headers: upstream.headers,
            body: await readBody(upstream, MAX_MANIFEST_BYTES),
          });
        } catch (err) {
          reject(err);
        }
      });
      out.on("error", reject);
      out.end(body);
    },
  );
}

async function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
