import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { serveProxyAdmin } from "./admin-routes.js";
import { CallCounts } from "./call-counts.js";
import { CallLog } from "./call-log.js";
import {
  accessKeyIdOf,
  type CallIdentity,
  needsBodyForOperation,
  operationOf,
  protocolOf,
  signingService,
} from "./classify.js";
import { attemptOf, decideFault, type FaultRule, resourceKey, ruleMatches } from "./faults.js";
import { readBody, send, sendJson } from "./http-util.js";
import { errorResponse, garbageResponse, serverError, throttleError } from "./protocol-errors.js";

/** Where the proxy forwards to (moto behind the launcher). */
export interface ProxyTarget {
  host: string;
  port: number;
}

const DEFAULT_LATENCY_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "upgrade"]);

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

function sleep(ms: number, req: IncomingMessage): Promise<boolean> {
  // Resolves false when the client went away first, so nothing is forwarded for a dead call.
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    // Keep-alive sockets carry many calls: take the listener off again, or they pile up.
    const timer = setTimeout(() => {
      req.socket.off("close", onClose);
      resolve(true);
    }, ms);
    req.socket.once("close", onClose);
  });
}

/** The recording, fault-injecting HTTP proxy in front of moto. */
export class SandboxProxy {
  readonly counts = new CallCounts();
  /** The calls, in order, of every access key that has fault rules of its own. */
  readonly log = new CallLog();
  /** The fault rules in force, in order (the admin API replaces them). */
  rules: FaultRule[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly target: ProxyTarget) {}

  /** Drops the idle upstream connections (on shutdown). */
  close(): void {
    this.agent.destroy();
  }

  /** An http.Server serving the proxy and its /_proxy admin API. */
  createServer(): http.Server {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 502, { error: `sandbox proxy: ${(err as Error).message}` });
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 30_000;
    return server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    if (url.startsWith("/_proxy/")) return serveProxyAdmin(this, req, res, url);
    const service = signingService(req.headers, url);
    if (!service) return this.forward(req, res, undefined);
    const protocol = protocolOf(service, req.headers);
    let body: Buffer | undefined;
    if (needsBodyForOperation(protocol, url)) body = await readBody(req);
    const call: CallIdentity = {
      service,
      protocol,
      operation: operationOf(service, protocol, req.method ?? "GET", url, req.headers, body),
    };
    const accessKeyId = accessKeyIdOf(req.headers, url);
    this.counts.record(call.service, call.operation, accessKeyId);
    if (!this.rules.some((r) => ruleMatches(r, call.service, call.operation)))
      return this.forward(req, res, body);

    body ??= await readBody(req);
    const resource = resourceKey(url, String(req.headers["content-type"] ?? ""), body);
    const attempt = attemptOf(req.headers["amz-sdk-request"]);
    const rule = decideFault(this.rules, {
      service: call.service,
      operation: call.operation,
      accessKeyId,
      resource,
      attempt,
    });
    if (accessKeyId && this.rules.some((r) => r.accessKeyId === accessKeyId))
      this.log.record(accessKeyId, {
        op: `${call.service}:${call.operation}`,
        resource,
        attempt,
        ...(rule ? { fault: rule.kind } : {}),
      });
    if (!rule) return this.forward(req, res, body);
    this.counts.recordFault(call.service, call.operation, rule.kind, accessKeyId);
    return this.inject(rule, call, req, res, body);
  }

  private async inject(
    rule: FaultRule,
    call: CallIdentity,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ) {
    switch (rule.kind) {
      case "latency":
        if (await sleep(rule.delayMs ?? DEFAULT_LATENCY_MS, req)) return this.forward(req, res, body);
        return;
      case "throttle":
        return send(res, errorResponse(call.protocol, throttleError(call.protocol)));
      case "5xx":
        return send(res, errorResponse(call.protocol, serverError(call.service)));
      case "garbage":
        return send(res, garbageResponse(call.protocol, body.length.toString(16)));
      case "timeout":
        // Never answers: the call hangs, then the connection drops (the SDK sees a network error).
        await sleep(rule.delayMs ?? DEFAULT_TIMEOUT_MS, req);
        req.socket.destroy();
        return;
      case "lost-response":
        // The change is made in moto; only the answer is lost on the way back.
        return this.forward(req, res, body, { dropResponse: true });
    }
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    options: { dropResponse?: boolean } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        {
          host: this.target.host,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: withoutHopByHop(req.headers),
          agent: this.agent,
        },
        (upRes) => {
          if (options.dropResponse) {
            upRes.resume();
            upRes.on("end", () => {
              req.socket.destroy();
              resolve();
            });
            return;
          }
          // moto's server closes every connection; the client's to the proxy can stay open.
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, withoutHopByHop(upRes.headers));
          upRes.pipe(res);
          upRes.on("end", resolve);
          upRes.on("error", reject);
        },
      );
      upstream.on("error", reject);
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });
  }
}
