import { existsSync, readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import type { LoopbackListener } from "./lb-inventory.js";

/** Whether a listener has a healthy target right now (decided by the health pass). */
export type HealthLookup = (listener: LoopbackListener) => { healthy: boolean; target?: string };

/** The certificate files part 1 issued for an ACM domain (sandbox CA), by the seed's naming. */
function certificateFor(caDir: string, domain: string): { cert: string; key: string } | undefined {
  const safe = domain.replace("*", "_wildcard");
  const cert = `${caDir}/certs/${safe}.pem`;
  const key = `${caDir}/certs/${safe}.key`;
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

function matches(domain: string, servername: string): boolean {
  if (domain === servername) return true;
  return (
    domain.startsWith("*.") &&
    servername.endsWith(domain.slice(1)) &&
    !servername.slice(0, -domain.length + 1).includes(".")
  );
}

/**
 * Serves each loopback listener as its load balancer would: 200 when a target is healthy, 503
 * (as an ALB with no healthy target) when none is. HTTPS listeners present their ACM
 * certificates, chosen by SNI.
 */
export class ListenerServers {
  private readonly servers = new Map<string, { server: Server; signature: string }>();

  constructor(
    private readonly caDir: string,
    private readonly health: HealthLookup,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
  ) {}

  /** Starts servers for new listeners and stops those whose listener is gone or changed. */
  async reconcile(listeners: LoopbackListener[]): Promise<string[]> {
    const problems: string[] = [];
    const wanted = new Map(listeners.map((l) => [`${l.address}:${l.port}`, l]));
    for (const [key, entry] of this.servers) {
      const l = wanted.get(key);
      if (!l || signatureOf(l) !== entry.signature) {
        // Idle keep-alive connections would hold close() open until they time out.
        const closed = new Promise((resolve) => entry.server.close(resolve));
        entry.server.closeAllConnections();
        await closed;
        this.servers.delete(key);
      }
    }
    for (const [key, listener] of wanted) {
      if (this.servers.has(key)) continue;
      try {
        const server = this.serverFor(listener);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(listener.port, listener.address, () => resolve());
        });
        this.servers.set(key, { server, signature: signatureOf(listener) });
        this.log("listener.serving", { address: key, protocol: listener.protocol });
      } catch (err) {
        const inUse = (err as { code?: string }).code === "EADDRINUSE";
        const why = inUse ? "the address is taken (another sandbox on this machine serves it?)" : String(err);
        problems.push(`${listener.protocol} ${key}: ${why}`);
      }
    }
    return problems;
  }

  /** The `address:port` of every listener being served. */
  serving(): string[] {
    return [...this.servers.keys()];
  }

  /** Stops every listener. */
  async close(): Promise<void> {
    for (const { server } of this.servers.values()) {
      server.close();
      server.closeAllConnections();
    }
    this.servers.clear();
  }

  private serverFor(listener: LoopbackListener): Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.answer(listener, req, res);
    if (listener.protocol === "HTTP") return createHttpServer(handler);
    const contexts: { domain: string; context: SecureContext }[] = [];
    for (const domain of listener.certificateDomains) {
      const pair = certificateFor(this.caDir, domain);
      if (pair) contexts.push({ domain, context: createSecureContext(pair) });
    }
    const fallback = contexts[0];
    if (!fallback)
      throw new Error(`no sandbox certificate for ${listener.certificateDomains.join(", ") || "(none)"}`);
    const first = certificateFor(this.caDir, fallback.domain)!;
    return createHttpsServer(
      {
        ...first,
        SNICallback: (servername, cb) =>
          cb(null, (contexts.find((c) => matches(c.domain, servername)) ?? fallback).context),
      },
      handler,
    );
  }

  private answer(listener: LoopbackListener, req: IncomingMessage, res: ServerResponse): void {
    const { healthy, target } = this.health(listener);
    if (!healthy) {
      res.writeHead(503, { "content-type": "text/html", server: "awselb/2.0" });
      res.end("<html><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n");
      return;
    }
    res.writeHead(200, {
      "content-type": "text/plain",
      server: "awselb/2.0",
      "x-sandbox-target": target ?? "",
    });
    res.end(`ok: ${req.method} ${req.url} served by ${target}\n`);
  }
}

function signatureOf(l: LoopbackListener): string {
  return `${l.protocol}|${l.certificateDomains.join(",")}|${l.targetGroupArns.join(",")}`;
}
