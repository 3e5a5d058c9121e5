import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * The console's guards: the login token, sessions, the Host and Origin checks and the CSRF token.
 * The token is made at start and lives as long as the process; it is never stored.
 */

export const COOKIE = "kc_console";

/** The Content-Security-Policy of every answer: the console's own script and stylesheet, nothing inline, no frames. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Headers every answer carries. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** A random secret, URL-safe. */
export function secret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Whether `given` is `expected`, compared in constant time (digests of both, so lengths do not show). */
export function sameSecret(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The host names the console answers to: loopback names, any port, and the one given with --host. */
export function allowedHost(hostHeader: string | undefined, extra: string | undefined): boolean {
  if (!hostHeader) return false;
  const name = hostName(hostHeader);
  if (name === undefined) return false;
  if (name === "127.0.0.1" || name === "localhost" || name === "[::1]") return true;
  return extra !== undefined && name === hostName(extra);
}

/** The name part of a Host header ("[::1]:4580" → "[::1]", "LocalHost:80" → "localhost"); undefined when malformed. */
export function hostName(host: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** A session: its CSRF token, which every change it makes must carry. */
export interface Session {
  id: string;
  csrf: string;
  createdAt: number;
}

/** Sessions made by logging in, held in memory: they end with the process, as the token does. */
export class Sessions {
  private readonly byId = new Map<string, Session>();
  /** The session of a bearer-token client (scripts): its CSRF token is fixed for the process. */
  readonly bearer: Session = { id: "bearer", csrf: secret(), createdAt: Date.now() };

  create(): Session {
    // A bound on memory: a client that logs in without end cannot grow the map without end.
    if (this.byId.size >= 1000) this.byId.delete(this.byId.keys().next().value!);
    const s: Session = { id: secret(), csrf: secret(), createdAt: Date.now() };
    this.byId.set(s.id, s);
    return s;
  }

  /** The session a request proves: a bearer token, or the session cookie. */
  of(req: IncomingMessage, token: string): Session | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) return sameSecret(auth.slice(7).trim(), token) ? this.bearer : undefined;
    const id = cookie(req.headers.cookie, COOKIE);
    if (!id) return undefined;
    // Looked up by id; ids are 256-bit random, so the lookup's timing tells nothing usable.
    return this.byId.get(id);
  }
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** Set-Cookie for a session: HttpOnly (no script reads it), SameSite=Strict (no other site sends it). */
export function sessionCookie(id: string): string {
  return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * Why a change (POST) is refused, or undefined when it may go on: a JSON body, the session's
 * CSRF token in X-CSRF-Token, and, when the browser says where it comes from, this origin.
 */
export function changeRefusal(req: IncomingMessage, session: Session): string | undefined {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return "a change must be sent as application/json";
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (session !== undefined && origin !== undefined && origin !== `http://${host}`)
    return `a change must come from this console's own pages (Origin ${origin})`;
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return "a change must come from this console's own pages";
  if (!sameSecret(req.headers["x-csrf-token"] as string | undefined, session.csrf))
    return "a change must carry the page's CSRF token (X-CSRF-Token)";
  return undefined;
}
