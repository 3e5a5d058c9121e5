/**
 * Coded errors shared by every layer. Only src/cli maps them to exit codes and text.
 * Kept at the root of src/ because spec/, plan/ and engine/ all raise them and must not import each other.
 */

export type ErrorCode =
  | "USAGE"
  | "SPEC_INVALID"
  | "SPEC_LOAD"
  | "CONFIG_INVALID"
  | "NOT_FOUND"
  | "PRECONDITION"
  /** A resource found by name is another app's (or has no kubecontrol tags): not acted on. */
  | "NOT_OWNED"
  | "PREFLIGHT_FAILED"
  | "LOCKED"
  | "STEP_FAILED"
  | "VERIFY_FAILED"
  | "TIMEOUT"
  | "CANCELLED"
  | "AWS"
  | "KUBE"
  | "SANDBOX"
  | "PREREQUISITE_MISSING"
  | "INTERNAL";

/** Who must act: the user (fix input, flags, environment) or the system (retry, report a bug). */
export type ErrorKind = "user" | "system";

export interface KubecontrolErrorOptions {
  kind?: ErrorKind;
  retryable?: boolean;
  /** What to do about it, shown under the message. */
  hint?: string;
  cause?: unknown;
  /** Structured context for --json and history; never secrets. */
  details?: Record<string, unknown>;
}

const USER_CODES = new Set<ErrorCode>([
  "USAGE",
  "SPEC_INVALID",
  "SPEC_LOAD",
  "CONFIG_INVALID",
  "NOT_FOUND",
  "PRECONDITION",
  "PREFLIGHT_FAILED",
  "LOCKED",
  "PREREQUISITE_MISSING",
  "NOT_OWNED",
]);

/** The one error type the engine throws: a code, user-vs-system, retryable, and a hint. */
export class KubecontrolError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KubecontrolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KubecontrolError";
    this.code = code;
    this.kind = options.kind ?? (USER_CODES.has(code) ? "user" : "system");
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      retryable: this.retryable,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Wraps anything thrown into a KubecontrolError, keeping coded ones as they are. */
export function toKubecontrolError(err: unknown): KubecontrolError {
  if (err instanceof KubecontrolError) return err;
  if (err instanceof Error) return new KubecontrolError("INTERNAL", err.message, { cause: err });
  return new KubecontrolError("INTERNAL", String(err));
}

export function isKubecontrolError(err: unknown): err is KubecontrolError {
  return err instanceof KubecontrolError;
}
