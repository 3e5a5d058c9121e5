import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { gatedChange, isReadOnlyOperation } from "../fence.js";
import { attemptReporter } from "./attempts.js";

/** What `createAws` takes: everything optional, the SDK's usual chain fills the rest. */
export interface AwsOptions {
  /** Region; without it the SDK chain (AWS_REGION, the profile's config) decides. */
  region?: string;
  /** Endpoint override (the sandbox's proxy); without it AWS_ENDPOINT_URL or the real endpoints. */
  endpoint?: string;
  /** Explicit credentials; without them the SDK chain (AWS_PROFILE, env, SSO, IMDS). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts per call, the first included; throttling across hundreds of calls needs more than the default 3. */
  maxAttempts?: number;
  /** Per-request deadline in ms (a hung connection fails instead of warning). */
  requestTimeoutMs?: number;
}

const NO_LOGGER = { debug() {}, info() {}, warn() {}, error() {}, trace() {} };

/** The SDK client configuration every narrow client is built with. */
export function sdkClientConfig(o: AwsOptions) {
  return {
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: o.maxAttempts ?? 10,
    // Adaptive adds client-side rate limiting once throttling starts: kinder to a shared account.
    retryMode: "adaptive",
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: o.requestTimeoutMs ?? 30_000,
      // Without it the SDK only logs a warning and a hung call waits forever.
      throwOnRequestTimeout: true,
    },
    // Requests carry signed headers and session tokens: nothing of them may reach a log.
    logger: NO_LOGGER,
  };
}

/**
 * Finalize-step middleware after the SDK's retry and signing middleware, so it runs before every attempt: a
 * request that changes something (anything but Describe*, List*, Get*...) asks the run's lease
 * first (src/fence.ts), and is never sent once the run can no longer prove it holds it.
 */
const changeGate =
  (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) =>
  async (args: unknown): Promise<unknown> => {
    const operation = (context.commandName ?? "").replace(/Command$/, "");
    if (isReadOnlyOperation(operation)) return next(args);
    return gatedChange(`${(context.clientName ?? "").replace(/Client$/, "")}:${operation}`, () => next(args));
  };

/** Adds the middleware that reports retried attempts to the running step, and the lease's gate. */
export function instrument(client: {
  middlewareStack: { addRelativeTo(mw: unknown, options: unknown): void };
}): void {
  client.middlewareStack.addRelativeTo(attemptReporter, {
    name: "kubecontrolAttemptReporter",
    relation: "after",
    toMiddleware: "retryMiddleware",
  });
  // After signing, the last of the finalize step: nothing asynchronous stands between the
  // gate and the request handler, so a process paused after the check cannot send it later.
  client.middlewareStack.addRelativeTo(changeGate, {
    name: "kubecontrolChangeGate",
    relation: "after",
    toMiddleware: "httpSigningMiddleware",
  });
}
