import type { Step, StepContext } from "../step.js";

/**
 * A step whose real form is known only once its dependencies have run (the Kubernetes objects
 * need the image's digest and the cluster's endpoint). `make` runs at the first check.
 */
export function deferredStep(
  shape: Pick<Step, "name" | "description" | "dependsOn" | "timeoutMs" | "preview">,
  make: (ctx: StepContext) => Promise<Step>,
): Step {
  let inner: Step | undefined;
  return {
    ...shape,
    async check(ctx) {
      inner = await make(ctx);
      return inner.check(ctx);
    },
    apply: (ctx, needed) => (inner?.apply ? inner.apply(ctx, needed) : Promise.resolve(undefined)),
    wait: (ctx, applied) => (inner?.wait ? inner.wait(ctx, applied) : Promise.resolve(applied)),
    summarize: (changed, applied) =>
      inner?.summarize?.(changed, applied) ?? (changed ? "done" : "already in place"),
  };
}
