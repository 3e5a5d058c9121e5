import { AsyncLocalStorage } from "node:async_hooks";
import type { StepContext } from "../engine/step.js";

/**
 * The step an AWS call is made for. The SDK retries throttling, 5xx and timeouts by itself;
 * this lets those attempts surface as the step's `step.retrying` events without threading a
 * context through every call.
 */
const current = new AsyncLocalStorage<StepContext>();

/** Runs `fn` with AWS calls attributed to `ctx`. */
export function withStepContext<T>(ctx: StepContext, fn: () => Promise<T>): Promise<T> {
  return current.run(ctx, fn);
}

interface MiddlewareArgs {
  request: { headers?: Record<string, string> };
}

interface HandlerContext {
  commandName?: string;
  clientName?: string;
}

/** Finalize-step middleware placed after the SDK's retry middleware: it runs once per attempt. */
export const attemptReporter =
  (next: (args: MiddlewareArgs) => Promise<unknown>, context: HandlerContext) =>
  async (args: MiddlewareArgs): Promise<unknown> => {
    const attempt = Number(/attempt=(\d+)/.exec(args.request.headers?.["amz-sdk-request"] ?? "")?.[1] ?? 1);
    if (attempt > 1) {
      const op = `${(context.clientName ?? "").replace(/Client$/, "")}:${(context.commandName ?? "").replace(/Command$/, "")}`;
      current.getStore()?.retrying(attempt, `${op} retried by the AWS SDK (throttled, 5xx or no answer)`, 0);
    }
    return next(args);
  };
