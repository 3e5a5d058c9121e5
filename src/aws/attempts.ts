import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Who hears of the AWS calls made for a piece of work (a step's context is one): their retries,
 * what is worth a warning, and when to stop waiting between attempts.
 */
export interface CallObserver {
  signal: AbortSignal;
  retrying(attempt: number, reason: string, delayMs: number): void;
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
}

/**
 * The observer of the current AWS work. The SDK retries throttling, 5xx and timeouts by itself;
 * this lets those attempts surface (as a step's `step.retrying` events) without threading an
 * observer through every call.
 */
const current = new AsyncLocalStorage<CallObserver>();

/** The attempt number of a call kubecontrol retries itself (a create, made with one SDK attempt). */
const ownAttempt = new AsyncLocalStorage<{ attempt: number; max: number }>();

/** Runs `fn` as attempt `attempt` of `max`: its request says so, as the SDK's own retries do. */
export function withAttempt<T>(attempt: number, max: number, fn: () => Promise<T>): Promise<T> {
  return ownAttempt.run({ attempt, max }, fn);
}

/** Runs `fn` with its AWS calls reported to `observer`. */
export function withCallObserver<T>(observer: CallObserver, fn: () => Promise<T>): Promise<T> {
  return current.run(observer, fn);
}

interface MiddlewareArgs {
  request: { headers?: Record<string, string> };
}

interface HandlerContext {
  commandName?: string;
  clientName?: string;
}

/** The observer of the current AWS work, if any. */
export function currentObserver(): CallObserver | undefined {
  return current.getStore();
}

/** Finalize-step middleware placed after the SDK's retry middleware: it runs once per attempt. */
export const attemptReporter =
  (next: (args: MiddlewareArgs) => Promise<unknown>, context: HandlerContext) =>
  async (args: MiddlewareArgs): Promise<unknown> => {
    const own = ownAttempt.getStore();
    // Our own retries of a create announce their number like the SDK's do (amz-sdk-request), so
    // the service (and the sandbox's fault injection) can tell attempt 2 from attempt 1.
    if (own && args.request.headers)
      args.request.headers["amz-sdk-request"] = `attempt=${own.attempt}; max=${own.max}`;
    const attempt = Number(/attempt=(\d+)/.exec(args.request.headers?.["amz-sdk-request"] ?? "")?.[1] ?? 1);
    if (attempt > 1 && !own) {
      const op = `${(context.clientName ?? "").replace(/Client$/, "")}:${(context.commandName ?? "").replace(/Command$/, "")}`;
      current.getStore()?.retrying(attempt, `${op} retried by the AWS SDK (throttled, 5xx or no answer)`, 0);
    }
    return next(args);
  };
