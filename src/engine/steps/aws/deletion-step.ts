import type { Step, StepContext } from "../../step.js";
import { waitUntil } from "../../wait-until.js";
import { awsStep, deleteName, pollPace, retryEventual, type StackEnv } from "./stack-env.js";

/** How one resource is found and removed. */
export interface Deletion<T> {
  /** Logical id of the resource (the step is `delete-<id>`). */
  id: string;
  description: string;
  env: Pick<StackEnv, "pace">;
  find(ctx: StepContext): Promise<T | undefined>;
  remove(found: T, ctx: StepContext): Promise<void>;
  /** Errors that mean "not yet" (in use, a dependency still there): retried with backoff. */
  transient?: (err: unknown) => boolean;
  /** Whether to wait until `find` no longer finds it (deletion is asynchronous). */
  waitGone?: boolean;
  timeoutMs?: number;
}

/** A delete step: satisfied when the resource is gone; removes it (retrying "in use") and waits until gone. */
export function deletionStep<T>(d: Deletion<T>): Step<T, void> {
  const gone = `${d.description} to be gone`;
  return awsStep({
    name: deleteName(d.id),
    description: `delete ${d.description}`,
    timeoutMs: d.timeoutMs ?? 20 * 60_000,
    async check(ctx) {
      const found = await d.find(ctx);
      return found === undefined
        ? { satisfied: true, reason: "already gone" }
        : { satisfied: false, reason: "exists", needed: found };
    },
    async apply(ctx, found) {
      const transient = d.transient;
      try {
        if (transient)
          await retryEventual(ctx, `delete ${d.description}`, () => d.remove(found!, ctx), transient, 30);
        else await d.remove(found!, ctx);
      } catch (err) {
        // A delete whose answer was lost is retried by the SDK and may then fail in odd ways
        // (not found, or a body it cannot parse): if the resource is gone, the delete worked.
        if ((await d.find(ctx).catch(() => found)) !== undefined) throw err;
      }
    },
    ...(d.waitGone
      ? {
          async wait(ctx: StepContext) {
            ctx.waiting(gone);
            await waitUntil(
              async () =>
                (await d.find(ctx)) === undefined
                  ? { done: true, value: true }
                  : { done: false, state: "exists" },
              {
                what: gone,
                timeoutMs: (d.timeoutMs ?? 20 * 60_000) - 60_000,
                signal: ctx.signal,
                ...pollPace(d.env),
              },
            );
          },
        }
      : {}),
    summarize: (changed) => (changed ? "deleted" : "already gone"),
  });
}
