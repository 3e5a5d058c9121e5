import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { whoAmI } from "../history/lease.js";
import type { HistoryStore } from "../history/types.js";
import { breakStaleLease, type CliTarget, switchColour } from "./actions.js";
import { appData, fleetData, fleetFilterOf, historyQueryOf, runData } from "./data.js";
import type { FleetSource } from "./fleet.js";
import { esc, type Html, html, scrubValue } from "./html.js";
import { appPage } from "./pages/app-page.js";
import { fleetPage } from "./pages/fleet-page.js";
import { historyPage } from "./pages/history-page.js";
import { layout } from "./pages/layout.js";
import { runPage } from "./pages/run-page.js";
import {
  allowedHost,
  changeRefusal,
  SECURITY_HEADERS,
  type Session,
  Sessions,
  sameSecret,
  secret,
  sessionCookie,
} from "./security.js";
import { RunStreams } from "./sse.js";

/** What the console serves from. */
export interface ConsoleOptions {
  store: HistoryStore;
  fleet: FleetSource;
  /** Address to listen on: 127.0.0.1 unless --host. */
  listen: string;
  port: number;
  /** The --host name, also accepted as Host (besides loopback names). */
  host?: string | undefined;
  /** Enables switch and breaking a stale lease. */
  allowActions: boolean;
  /** How actions run the CLI (switch). */
  cli?: CliTarget | undefined;
  /** The login token; made here when not given (tests and benchmarks give one). */
  token?: string;
  /** How often a watched run is read from the store for its live page (ms). */
  pollMs?: number;
}

export interface RunningConsole {
  server: Server;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The login link: url + /login?token=… */
  loginUrl: string;
  token: string;
  close(): Promise<void>;
}

/** Where the console's script and stylesheet are: assets/console/ at the package's root (from src/ and dist/ alike). */
const ASSETS = path.resolve(import.meta.dirname, "../../assets/console");
const STATIC: Record<string, string> = {
  "/static/console.js": "text/javascript; charset=utf-8",
  "/static/console.css": "text/css; charset=utf-8",
};

/** An answer with a status of its own (a refusal, a missing page). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the console: server-rendered pages over the store and the fleet source, a JSON API
 * under /api/v1, server-sent events for running runs. Every request must name a loopback host
 * or the --host name (421 otherwise: DNS rebinding), and but for /login and the static files
 * prove a session (cookie) or the token (bearer); every change also needs JSON, the session's
 * CSRF token and this origin.
 */
export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const token = o.token ?? secret();
  const sessions = new Sessions();
  const streams = new RunStreams(o.store, o.pollMs);
  const assets = new Map<string, Buffer>();
  for (const route of Object.keys(STATIC))
    assets.set(route, await readFile(path.join(ASSETS, path.basename(route))));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (!allowedHost(req.headers.host, o.host)) {
      return text(res, 421, "misdirected request: this console answers only to its own host name\n");
    }
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const route = url.pathname;
    const asset = assets.get(route);
    if (asset && req.method === "GET") {
      res.writeHead(200, { "Content-Type": STATIC[route]!, "Cache-Control": "no-cache" });
      res.end(asset);
      return;
    }
    if (route === "/favicon.ico") {
      res.writeHead(204);
      return void res.end();
    }
    if (route === "/login" && req.method === "GET") return login(res, url);
    const session = sessions.of(req, token);
    const api = route.startsWith("/api/");
    if (!session) {
      if (api)
        return json(res, 401, {
          error: "log in: open the link kubecontrol console printed, or send Authorization: Bearer <token>",
        });
      return page(
        res,
        401,
        "Log in",
        html`<h1>Log in</h1><p>Open the login link that <code>kubecontrol console</code> printed when it started (<code>/login?token=…</code>).</p>`,
        "",
      );
    }
    if (req.method === "POST") {
      const refusal = changeRefusal(req, session);
      if (refusal) return json(res, 403, { error: refusal });
      return change(req, res, route, session);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: "method not allowed" });
    // A script's session: its CSRF token (reading it needs the session; no other origin may read it).
    if (route === "/api/v1/session")
      return json(res, 200, { allowActions: o.allowActions, csrf: session.csrf });
    return api ? read(res, route, url.searchParams) : view(res, route, url.searchParams, session);
  };

  async function login(res: ServerResponse, url: URL): Promise<void> {
    if (!sameSecret(url.searchParams.get("token"), token)) {
      return page(
        res,
        401,
        "Log in",
        html`<h1>Log in</h1><p>That login link is not this console's. Open the one <code>kubecontrol console</code> printed.</p>`,
        "",
      );
    }
    const s = sessions.create();
    // The redirect takes the token out of the address bar and the browser's history.
    const next = url.searchParams.get("next");
    const to = next && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : "/";
    res.writeHead(303, { "Set-Cookie": sessionCookie(s.id), Location: to });
    res.end();
  }

  async function view(res: ServerResponse, route: string, q: URLSearchParams, s: Session): Promise<void> {
    if (route === "/") {
      const d = fleetData(await o.fleet.read(), fleetFilterOf(q));
      return page(res, 200, "Fleet", fleetPage(d), s.csrf, "fleet");
    }
    if (route === "/history") {
      const hq = historyQueryOf(q);
      const p = await o.store.pageRuns(hq.filter, hq.after);
      return page(res, 200, "History", historyPage(p, hq), s.csrf, "history");
    }
    let m = /^\/apps\/([^/]+)$/.exec(route);
    if (m) {
      const name = decodeURIComponent(m[1]!);
      const d = await appData(o.store, await o.fleet.read(), name);
      if (!d.entry && d.runs.runs.length === 0)
        throw new HttpError(404, `no app named ${name} in the fleet or its history`);
      return page(res, 200, name, appPage(d, { allowActions: o.allowActions }), s.csrf, "app");
    }
    m = /^\/runs\/([^/]+)$/.exec(route);
    if (m) {
      const d = await runData(o.store, decodeURIComponent(m[1]!));
      if (!d) throw new HttpError(404, `no run ${decodeURIComponent(m[1]!)}`);
      return page(res, 200, `${d.run.command} ${d.run.app}`, runPage(d), s.csrf, "run");
    }
    throw new HttpError(404, `no page at ${route}`);
  }

  async function read(res: ServerResponse, route: string, q: URLSearchParams): Promise<void> {
    if (route === "/api/v1/fleet") return json(res, 200, fleetData(await o.fleet.read(), fleetFilterOf(q)));
    if (route === "/api/v1/runs") {
      const hq = historyQueryOf(q);
      if (hq.problems.length) throw new HttpError(400, hq.problems.join("; "));
      return json(res, 200, await o.store.pageRuns(hq.filter, hq.after));
    }
    let m = /^\/api\/v1\/apps\/([^/]+)$/.exec(route);
    if (m) return json(res, 200, await appData(o.store, await o.fleet.read(), decodeURIComponent(m[1]!)));
    m = /^\/api\/v1\/runs\/([^/]+)\/events$/.exec(route);
    if (m) {
      if (!(await streams.open(decodeURIComponent(m[1]!), res))) throw new HttpError(404, "no such run");
      return;
    }
    m = /^\/api\/v1\/runs\/([^/]+)$/.exec(route);
    if (m) {
      const d = await runData(o.store, decodeURIComponent(m[1]!));
      if (!d) throw new HttpError(404, "no such run");
      return json(res, 200, d);
    }
    throw new HttpError(404, `no API at ${route}`);
  }

  async function change(req: IncomingMessage, res: ServerResponse, route: string, s: Session): Promise<void> {
    const m = /^\/api\/v1\/apps\/([^/]+)\/(break-lease|switch)$/.exec(route);
    if (!m) throw new HttpError(404, `no API at ${route}`);
    if (!o.allowActions) throw new HttpError(403, "actions are off: start the console with --allow-actions");
    const app = decodeURIComponent(m[1]!);
    const body = (await readJson(req)) as { confirm?: unknown; why?: unknown; token?: unknown; to?: unknown };
    if (body.confirm !== app) throw new HttpError(400, `confirm: type the app's name (${app}) to confirm`);
    if (typeof body.why !== "string" || !body.why.trim() || body.why.length > 500)
      throw new HttpError(400, "why: say why (at most 500 characters); it is recorded with who did it");
    const actor = { who: `${whoAmI()} (console${s.id === "bearer" ? ", token" : ""})`, why: body.why.trim() };
    if (m[2] === "break-lease") {
      const t = Number(body.token);
      if (!Number.isInteger(t))
        throw new HttpError(400, "token: expected the lease's fencing token, as the app page shows it");
      const broken = await breakStaleLease(o.store, app, t, actor);
      return json(res, 200, { broken });
    }
    if (body.to !== "blue" && body.to !== "green") throw new HttpError(400, 'to: expected "blue" or "green"');
    if (!o.cli) throw new HttpError(501, "switch is not available from this console");
    const result = await switchColour(o.store, o.cli, app, body.to, actor);
    return json(res, result.exitCode === 0 ? 200 : 409, result);
  }

  function page(
    res: ServerResponse,
    status: number,
    title: string,
    body: Html,
    csrf: string,
    nav: Parameters<typeof layout>[0]["nav"] = "fleet",
  ): void {
    res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" });
    res.end(layout({ title, nav, csrf, body }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError
          ? err.status
          : err instanceof KubecontrolError
            ? err.code === "USAGE"
              ? 400
              : err.code === "NOT_FOUND"
                ? 404
                : err.code === "LOCKED"
                  ? 409
                  : err.code === "PREREQUISITE_MISSING"
                    ? 501
                    : 500
            : 500;
      const message = err instanceof Error ? err.message : String(err);
      const hint = err instanceof KubecontrolError ? err.hint : undefined;
      if (res.headersSent) return res.end();
      if ((req.url ?? "").startsWith("/api/") || req.method === "POST")
        return json(res, status, { error: message, hint });
      page(
        res,
        status,
        "Error",
        html`<h1>${String(status)}</h1><p class="problem">${message}</p>${hint ? html`<p class="hint">${hint}</p>` : ""}`,
        "",
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.listen, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = o.host ?? (o.listen.includes(":") ? `[${o.listen}]` : o.listen);
  const url = `http://${hostPart}:${port}`;
  return {
    server,
    url,
    loginUrl: `${url}/login?token=${token}`,
    token,
    async close() {
      streams.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await o.fleet.close();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(scrubValue(body)));
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(esc(body));
}

/** A JSON request body of at most 16 KiB. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
}
