import { type LookupAddress, type LookupOptions, lookup } from "node:dns";
import type { Dispatcher } from "undici";
import { describeRequestFailure, type RequestFailure } from "./failure.js";

/**
 * Where requests for a host name really go: the colour's load balancer, before DNS points the
 * name at it (`curl --connect-to`). TLS's server name, the certificate check and the Host header
 * all stay the app's own name, as they will be for clients.
 */
export interface ConnectTo {
  /** The name clients use (the app's DNS record). */
  host: string;
  /** Where to connect instead: the load balancer's DNS name (or address). */
  address: string;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * An undici dispatcher that connects every request for `to.host` to `to.address`; other hosts
 * resolve as usual. Certificates are verified against the system's store and NODE_EXTRA_CA_CERTS.
 */
export async function connectToDispatcher(to: ConnectTo): Promise<Dispatcher> {
  const { Agent } = await import("undici");
  const host = to.host.toLowerCase().replace(/\.$/, "");
  return new Agent({
    connect: {
      lookup(hostname: string, options: LookupOptions, callback: LookupCallback) {
        const name = hostname.toLowerCase().replace(/\.$/, "") === host ? to.address : hostname;
        lookup(name, options, callback as never);
      },
    },
  });
}

/** What a probe saw: the status and the start of the body, or why no answer came. */
export type ProbeResult =
  | { answered: true; status: number; bodyStart: string }
  | { answered: false; failure: RequestFailure };

/**
 * One GET through `dispatcher` with a deadline; never throws for the request's own failure
 * (only when `signal` aborts). Redirects are not followed: a redirect is an answer.
 */
export async function probe(
  url: string,
  o: { dispatcher: Dispatcher; timeoutMs: number; signal: AbortSignal },
): Promise<ProbeResult> {
  const { request } = await import("undici");
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  try {
    const res = await request(url, { method: "GET", dispatcher: o.dispatcher, signal });
    const body = await readStart(res.body, 512);
    return { answered: true, status: res.statusCode, bodyStart: oneLine(body, 160) };
  } catch (err) {
    if (o.signal.aborted) throw err;
    return {
      answered: false,
      failure: describeRequestFailure(err, { host: new URL(url).hostname, timeoutMs: o.timeoutMs }),
    };
  }
}

/** The first `limit` bytes of a body, the rest discarded. */
async function readStart(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  body.destroy();
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

/** Text on one line, cut at `limit` characters. */
function oneLine(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}
