import type { Step, StepContext } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  retryEventual,
  type StackEnv,
  waitGone,
} from "./stack-env.js";

type Tags = Record<string, string>;

/**
 * How one planned resource is found, compared, made and put right. `D` has one entry per change
 * it can make; an entry that is false, undefined, an empty list or an empty record is no change.
 */
export interface Ensure<F, D extends object, Ref> {
  /** The planned resource: its step is `ensure-<id>`, its tags say whose it must be. */
  r: { id: string; kind: string; name: string; tags: Tags };
  env: Pick<StackEnv, "runId" | "adopt" | "pace">;
  description: string;
  dependsOn: string[];
  timeoutMs: number;
  /** The resource of the planned name, if any. */
  find(ctx: StepContext): Promise<F | undefined>;
  tagsOf(found: F): Tags | undefined | Promise<Tags | undefined>;
  /** Being deleted (DELETING, "Delete in progress"): waited for until gone, then made anew. */
  leaving?(found: F): boolean;
  /**
   * What differs from the plan; for `undefined`, what the create itself does not set. Throws
   * PRECONDITION for what cannot change in place.
   */
  diff(ctx: StepContext, found: F | undefined): D | Promise<D>;
  /** Makes it with these tags (one attempt: createOrAdopt looks before trying again). */
  create(ctx: StepContext, tags: Tags): Promise<F>;
  /** The error codes of a create that finds the name taken: what is there is adopted if owned. */
  alreadyExists: string[];
  /** Errors of a create that mean "not yet" (IAM is eventually consistent): retried. */
  notYet?(err: unknown): boolean;
  /** Applies the changes `diff` named (also right after a create). */
  change(ctx: StepContext, found: F, d: D): Promise<void>;
  /** Writes the plan's tags it lacks. */
  tag(ctx: StepContext, found: F, tags: Tags): Promise<void>;
  /** What later steps get of it. */
  ref(found: F, ctx: StepContext): Ref;
  /** Why it is not ready yet (a cluster CREATING, a load balancer provisioning): `wait` waits. */
  pending?(found: F): string | undefined;
  /** Waits until it is ready, and gives its ref. */
  wait?(ctx: StepContext): Promise<Ref>;
  /** A satisfied check's reason (default "in place"). */
  inPlace?(found: F): string;
  /** What the step's summary names: "made", "ready" or "found", then this. */
  summary?(ref: Ref): string;
}

/** What an ensure step's check hands its apply. */
export interface EnsureNeeded<F, D> {
  /** Undefined: to be made (after the one `leaving` is gone). */
  found?: F;
  leaving?: boolean;
  diff: D;
  tags: Tags;
}

/** The names of the entries of `d` that are a change, in words (`healthCheck`: "health check"). */
function changes(d: object): string[] {
  return Object.entries(d)
    .filter(([, v]) => {
      if (v === false || v === undefined || v === null) return false;
      if (Array.isArray(v)) return v.length > 0;
      return typeof v !== "object" || Object.keys(v).length > 0;
    })
    .map(([k]) => k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));
}

/**
 * An ensure step: satisfied when the resource is there, the app's, as planned and ready; else it
 * creates (or adopts what a lost answer made) or puts right what differs, then waits if it must.
 */
export function ensureStep<F, D extends object, Ref>(e: Ensure<F, D, Ref>): Step<EnsureNeeded<F, D>, Ref> {
  const { r, env } = e;
  return awsStep<EnsureNeeded<F, D>, Ref>({
    name: ensureName(r.id),
    description: e.description,
    dependsOn: e.dependsOn,
    timeoutMs: e.timeoutMs,
    async check(ctx) {
      const found = await e.find(ctx);
      if (found === undefined || e.leaving?.(found)) {
        const leaving = found !== undefined;
        const needed = { leaving, diff: await e.diff(ctx, undefined), tags: {} };
        return { satisfied: false, reason: leaving ? "being deleted" : "missing", needed };
      }
      // Only what its tags say is the planned owner's is changed: NOT_OWNED otherwise.
      const tags = claimTags(r, (await e.tagsOf(found)) ?? {}, env);
      const diff = await e.diff(ctx, found);
      const differs = [...changes(diff), ...(Object.keys(tags).length ? ["tags"] : [])];
      const pending = e.pending?.(found);
      if (!differs.length && !pending)
        return { satisfied: true, reason: e.inPlace?.(found) ?? "in place", value: e.ref(found, ctx) };
      const reason = [differs.length ? `differs: ${differs.join(", ")}` : "", pending ?? ""]
        .filter(Boolean)
        .join("; ");
      return { satisfied: false, reason, needed: { found, diff, tags } };
    },
    async apply(ctx, n) {
      let found = n.found;
      if (found === undefined) {
        if (n.leaving)
          await waitGone(ctx, `${e.description} to be gone`, () => e.find(ctx), e.timeoutMs, env);
        const create = () =>
          createOrAdopt(
            () => e.create(ctx, creationTags(r.tags, env.runId)),
            ownedFind(() => e.find(ctx), e.tagsOf, r, env),
            e.alreadyExists,
          );
        found = e.notYet
          ? await retryEventual(ctx, `create ${e.description}`, create, e.notYet)
          : await create();
      } else if (Object.keys(n.tags).length) await e.tag(ctx, found, n.tags);
      await e.change(ctx, found, n.diff);
      return e.wait ? undefined : e.ref(found, ctx);
    },
    ...(e.wait ? { wait: (ctx: StepContext) => e.wait!(ctx) } : {}),
    ...(e.summary
      ? {
          summarize: (changed: boolean, ref: Ref | undefined) =>
            `${changed ? (e.wait ? "ready" : "made") : "found"} ${ref ? e.summary!(ref) : r.name}`,
        }
      : {}),
  });
}
