import { KubecontrolError } from "../errors.js";

/** The AWS error code of an SDK error ("ThrottlingException", "NoSuchEntity"...), if it is one. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err instanceof KubecontrolError) return err.details?.awsCode as string | undefined;
  if (!err || typeof err !== "object") return undefined;
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: unknown };
  return e.Code ?? (e.$metadata ? e.name : undefined) ?? e.code ?? e.name;
}

/** The message AWS gave with an error. */
export function awsErrorMessage(err: unknown): string {
  const cause = err instanceof KubecontrolError ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** True when the error carries one of these AWS codes. */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}

// Errors from which the answer of a mutating call is unknown: it may have taken effect.
const AMBIGUOUS = new Set([
  "TimeoutError",
  "RequestTimeout",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "ThrottlingException",
  "Throttling",
]);

/** True when a mutating call failed without a definite answer, so the caller must look again. */
export function isAmbiguous(err: unknown): boolean {
  const cause = err instanceof KubecontrolError ? err.cause : err;
  const code = awsErrorCode(cause);
  if (code && AMBIGUOUS.has(code)) return true;
  const meta = (cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode === undefined || meta.httpStatusCode >= 500;
}

const USER_CODES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
  "LimitExceeded",
  "LimitExceededException",
  "ResourceLimitExceededException",
  "TooManyLoadBalancers",
  "TooManyTargetGroups",
]);

/** Wraps an SDK error as a KubecontrolError naming the call, the resource and the AWS code. */
export function toAwsError(
  err: unknown,
  service: string,
  operation: string,
  resource: string,
): KubecontrolError {
  if (err instanceof KubecontrolError) return err;
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const raw = err instanceof Error ? err.message : String(err);
  // The SDK could not parse the answer (a body cut short or garbled on the way): whether the call
  // took effect is unknown, and the next run's checks find out.
  const unreadable =
    /Deserialization error/.test(raw) ||
    (err instanceof Error && (err.name === "SyntaxError" || "$responseBodyText" in err));
  const code = unreadable ? "UnreadableResponse" : (awsErrorCode(err) ?? "Unknown");
  const message = unreadable
    ? `AWS's answer could not be read (${
        raw
          .split("\n")
          .find((l) => l.trim() && !/Deserialization error/.test(l))
          ?.trim() ?? raw.trim()
      }); whether the call took effect is unknown`
    : raw;
  const retryable =
    unreadable || Boolean((err as { $retryable?: unknown })?.$retryable) || (status ?? 0) >= 500;
  return new KubecontrolError("AWS", `${service}:${operation} on ${resource} failed: ${code}: ${message}`, {
    kind: USER_CODES.has(code) ? "user" : "system",
    retryable,
    cause: err,
    hint: USER_CODES.has(code)
      ? "check the credentials, permissions and service quotas of the account"
      : "re-run the command: it continues from what exists",
    details: { awsCode: code, service, operation, resource, ...(status ? { httpStatus: status } : {}) },
  });
}

/** Runs one AWS call, turning its error into a coded one. */
export async function awsCall<T>(
  service: string,
  operation: string,
  resource: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAwsError(err, service, operation, resource);
  }
}

/** Runs a lookup whose "not found" errors mean absence: undefined instead of a throw. */
export async function orAbsent<T>(fn: () => Promise<T>, ...notFoundCodes: string[]): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (hasCode(err, ...notFoundCodes)) return undefined;
    throw err;
  }
}
