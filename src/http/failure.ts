import { formatDuration } from "../io/format.js";

/**
 * Why an HTTP request failed, in words a person can act on, and whether waiting could mend it.
 * Undici and Node report the cause as an error code somewhere along the `cause` chain
 * ("fetch failed" → ConnectTimeoutError → …); the code is what tells a certificate that does not
 * cover the name (it never will) from a connection refused while targets register (it may pass).
 */

/** A failed request's cause: the words for it, and whether time cannot mend it. */
export interface RequestFailure {
  cause: string;
  /** True when retrying until the deadline cannot help (a certificate that does not cover the name). */
  permanent: boolean;
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
]);

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  reason?: unknown;
  hostname?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
}

/** Every error along the `cause` chain, outermost first. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  while (e && typeof e === "object" && out.length < 8) {
    out.push(e as ErrorLike);
    e = (e as ErrorLike).cause;
  }
  return out;
}

function where(e: ErrorLike): string {
  return typeof e.address === "string"
    ? ` by ${e.address}${typeof e.port === "number" ? `:${e.port}` : ""}`
    : "";
}

/**
 * Describes a failed request (undici's request or fetch, Node's https) for a person: the TLS
 * problem, the refused or reset connection, the name that does not resolve, the timeout.
 * `host` is the name the request was for (what the certificate must cover).
 */
export function describeRequestFailure(
  err: unknown,
  o: { host: string; timeoutMs?: number },
): RequestFailure {
  const errors = chain(err);
  for (const e of errors) {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      const reason = typeof e.reason === "string" ? `: ${e.reason}` : "";
      return { cause: `TLS: the certificate does not cover ${o.host}${reason}`, permanent: true };
    }
    if (code && UNTRUSTED.has(code))
      return {
        cause: `TLS: the certificate's issuer is not trusted (${code}); trust its CA in the system's store or NODE_EXTRA_CA_CERTS`,
        permanent: true,
      };
    if (code === "CERT_HAS_EXPIRED")
      return { cause: "TLS: the certificate has expired (CERT_HAS_EXPIRED)", permanent: true };
    if (code === "CERT_NOT_YET_VALID")
      return { cause: "TLS: the certificate is not valid yet (CERT_NOT_YET_VALID)", permanent: true };
    if (code === "ECONNREFUSED") return { cause: `connection refused${where(e)}`, permanent: false };
    if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET")
      return { cause: `connection reset${where(e)}`, permanent: false };
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME")
      return {
        cause: `DNS: ${typeof e.hostname === "string" ? e.hostname : o.host} does not resolve (${code})`,
        permanent: false,
      };
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH")
      return { cause: `no route to the load balancer${where(e)} (${code})`, permanent: false };
    if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT")
      return { cause: "timed out connecting to the load balancer", permanent: false };
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || e.name === "TimeoutError")
      return {
        cause: `no answer within ${o.timeoutMs !== undefined ? formatDuration(o.timeoutMs) : "the timeout"}`,
        permanent: false,
      };
    if (typeof code === "string" && (code.startsWith("ERR_SSL") || code === "EPROTO"))
      return { cause: `TLS handshake failed (${code})`, permanent: false };
  }
  const innermost = errors.at(-1);
  const message = typeof innermost?.message === "string" ? innermost.message : String(err);
  return { cause: message, permanent: false };
}
