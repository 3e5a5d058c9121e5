import type { ErrorCode } from "../errors.js";

/** Documented exit codes (README.md, "Exit codes"). Scripts and cron depend on these: never renumber. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  INVALID_SPEC: 3,
  LOCKED: 4,
  PREFLIGHT: 5,
  DEPLOY_FAILED: 6,
  VERIFY_FAILED: 7,
  NOT_FOUND: 8,
  PREREQUISITE: 9,
  /** `status`: some app is not healthy (degraded, failed, deploying or unreadable). */
  UNHEALTHY: 10,
  /**
   * `update` or `rollout` of several apps (`--all`, or more than one named): apps failed with
   * different exit codes. When every failed app failed with the same code, that code is the
   * command's; the table (and the `apps` JSON document) names each app's own.
   */
  APPS_FAILED: 11,
  CANCELLED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Maps an error code to its exit code. */
export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  switch (code) {
    case "USAGE":
      return ExitCode.USAGE;
    case "SPEC_INVALID":
    case "SPEC_LOAD":
    case "CONFIG_INVALID":
      return ExitCode.INVALID_SPEC;
    case "LOCKED":
      return ExitCode.LOCKED;
    case "PREFLIGHT_FAILED":
    case "PRECONDITION":
      return ExitCode.PREFLIGHT;
    case "STEP_FAILED":
    case "NOT_OWNED":
    case "TIMEOUT":
    case "AWS":
    case "KUBE":
      return ExitCode.DEPLOY_FAILED;
    case "VERIFY_FAILED":
      return ExitCode.VERIFY_FAILED;
    case "NOT_FOUND":
      return ExitCode.NOT_FOUND;
    case "PREREQUISITE_MISSING":
      return ExitCode.PREREQUISITE;
    case "CANCELLED":
      return ExitCode.CANCELLED;
    default:
      return ExitCode.FAILURE;
  }
}
