import { TAG } from "../../../plan/aws.js";
import type { Colour } from "../../../plan/names.js";
import { assertOwned, type Owner } from "../../../plan/ownership.js";
import type { Step, StepContext } from "../../step.js";
import { awsStep, deleteName, retryEventual, type StackEnv, waitGone } from "./stack-env.js";

/** How one resource is found and removed. */
export interface Deletion<T> {
  /** Logical id of the resource (the step is `delete-<id>`). */
  id: string;
  description: string;
  env: Pick<StackEnv, "pace">;
  find(ctx: StepContext): Promise<T | undefined>;
  /**
   * Whose the resource must be for this step to delete it, and how its tags (or its parent's:
   * a listener's load balancer, an access entry's cluster) are read from what `find` returned;
   * or why its name alone says whose it is (a weighted record's set identifier).
   */
  owner:
    | { want: Owner; tags(found: T, ctx: StepContext): Promise<Record<string, string> | undefined> }
    | { byName: string };
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
  return awsStep<T, void>({
    name: deleteName(d.id),
    description: `delete ${d.description}`,
    timeoutMs: d.timeoutMs ?? 20 * 60_000,
    async check(ctx) {
      const found = await d.find(ctx);
      if (found === undefined) return { satisfied: true, reason: "already gone" };
      // Only what its tags say is the app's (and colour's) is deleted: NOT_OWNED otherwise.
      if ("want" in d.owner)
        assertOwned(d.description, await d.owner.tags(found, ctx), d.owner.want, { action: "delete" });
      return { satisfied: false, reason: "exists", needed: found as T };
    },
    async apply(ctx, found) {
      const transient = d.transient;
      try {
        if (transient)
          await retryEventual(ctx, `delete ${d.description}`, () => d.remove(found, ctx), transient, 30);
        else await d.remove(found, ctx);
      } catch (err) {
        // A delete whose answer was lost is retried by the SDK and may then fail in odd ways
        // (not found, or a body it cannot parse): if the resource is gone, the delete worked.
        if ((await d.find(ctx).catch(() => found)) !== undefined) throw err;
      }
    },
    ...(d.waitGone
      ? {
          wait: (ctx: StepContext) =>
            waitGone(ctx, gone, () => d.find(ctx), (d.timeoutMs ?? 20 * 60_000) - 60_000, d.env),
        }
      : {}),
    summarize: (changed) => (changed ? "deleted" : "already gone"),
  });
}

/** Whose a planned resource is: the app (and colour) its planned tags name. */
export function plannedOwner(r: { tags: Record<string, string> }): Owner {
  return { app: r.tags[TAG.app] ?? "", colour: r.tags[TAG.colour] as Colour | undefined };
}
