import type { PollResult } from "../wait.js";
import { waitUntil } from "../wait.js";
import type { Step, StepContext } from "./step.js";

/** A step that only waits for the world to say yes: nodes Ready, targets healthy. */
export interface Converge<T> {
  name: string;
  description: string;
  dependsOn: string[];
  /** Looks once: done with what it found, or not yet with the state seen (for the heartbeat). */
  look(): Promise<PollResult<T>>;
  /** What is waited for, in words, for the timeout's message. */
  what: string;
  /** How long the wait may take before it gives up with TIMEOUT. */
  timeoutMs: number;
  /** First delay between looks (doubling, with jitter, up to `maxPollMs`). */
  pollMs: number;
  maxPollMs: number;
  /** The heartbeat for a state seen; default the state itself. */
  waiting?(state: string): string;
  /** Turns the wait's error (TIMEOUT, or the look's) into the step's, with its evidence. */
  failed?(err: unknown): Promise<never>;
  summarize?(found: T | undefined): string;
}

/**
 * The step for a `Converge`: its check looks once, so a run that finds it already true goes on
 * (and a re-run judges it again); its wait looks until it is true or the time is up. There is
 * nothing to apply: other steps, or the world, make it true.
 */
export function convergeStep<T>(c: Converge<T>): Step<undefined, T> {
  const heartbeat = (state: string) => c.waiting?.(state) ?? state;
  return {
    name: c.name,
    description: c.description,
    dependsOn: c.dependsOn,
    // The wait's own deadline comes first, with evidence; this one only bounds a hung call.
    timeoutMs: c.timeoutMs + 60_000,
    async check() {
      const seen = await c.look();
      return seen.done
        ? { satisfied: true, reason: c.summarize?.(seen.value) ?? "done", value: seen.value }
        : { satisfied: false, reason: `waiting for ${heartbeat(seen.state)}`, needed: undefined };
    },
    async wait(ctx: StepContext) {
      try {
        return await waitUntil(() => c.look(), {
          what: c.what,
          timeoutMs: c.timeoutMs,
          signal: ctx.signal,
          initialDelayMs: c.pollMs,
          maxDelayMs: Math.max(c.pollMs, c.maxPollMs),
          onPoll: (state) => ctx.waiting(heartbeat(state)),
        });
      } catch (err) {
        if (c.failed) return c.failed(err);
        throw err;
      }
    },
    ...(c.summarize ? { summarize: (_changed: boolean, found: T | undefined) => c.summarize!(found) } : {}),
  };
}
