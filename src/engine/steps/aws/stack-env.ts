import { currentObserver, withAttempt, withCallObserver } from "../../../aws/attempts.js";
import type { Aws } from "../../../aws/create-aws.js";
import { awsErrorCode, hasCode, isAmbiguous } from "../../../aws/errors.js";
import { KubecontrolError } from "../../../errors.js";
import { TAG } from "../../../plan/aws.js";
import type { ResourceId } from "../../../plan/aws-types.js";
import type { Colour } from "../../../plan/names.js";
import { ADOPTED_BY, assertOwned } from "../../../plan/ownership.js";
import type { Plan } from "../../../plan/plan.js";
import { sleep, waitUntil } from "../../../wait.js";
import { retry } from "../../retry.js";
import { type Step, type StepContext, stepRef } from "../../step.js";
import type { ClusterRef } from "./ensure-cluster.js";
import type { RepositoryRef } from "./ensure-ecr-repository.js";
import type { RoleRef } from "./ensure-iam-role.js";
import type { InstanceProfileRef } from "./ensure-instance-profile.js";
import type { LaunchTemplateRef } from "./ensure-launch-template.js";
import type { LoadBalancerRef } from "./ensure-load-balancer.js";
import type { SecurityGroupRef } from "./ensure-security-group.js";
import type { TargetGroupRef } from "./ensure-target-group.js";
import type { Network } from "./find-network.js";

/** What every AWS step of one colour's stack works with. */
export interface StackEnv {
  plan: Plan;
  aws: Aws;
  /** Written once into `kubecontrol:created-by` of what this run creates. */
  runId: string;
  /** Poll and retry pacing; tests shorten it, real AWS needs the defaults. */
  pace?: { pollMs?: number; maxPollMs?: number };
  /** How long a security group's deletion waits for network interfaces to let go of it (default 10 min). */
  interfaceWaitMs?: number;
  /** Take over resources found by name without kubecontrol's tags (`--adopt`); never another app's. */
  adopt?: boolean;
}

/** The step that ensures a logical resource (`ensure-iam-role/cluster`). */
export function ensureName(id: string): string {
  const [kind, ...rest] = id.split("/");
  return `ensure-${kind}/${rest.join("/")}`;
}

/** The step that deletes a logical resource (`delete-iam-role/cluster`). */
export function deleteName(id: string): string {
  const [kind, ...rest] = id.split("/");
  return `delete-${kind}/${rest.join("/")}`;
}

/** The step that finds the VPC and subnets. */
export const FIND_NETWORK = "find-network";

/** What each kind's ensure step gives the steps after it. */
export interface RefByKind {
  "iam-role": RoleRef;
  "iam-instance-profile": InstanceProfileRef;
  "security-group": SecurityGroupRef;
  "eks-cluster": ClusterRef;
  "launch-template": LaunchTemplateRef;
  "target-group": TargetGroupRef;
  "load-balancer": LoadBalancerRef;
  "ecr-repository": RepositoryRef;
}

/** The result of the step that ensured a logical resource, typed by its kind. */
export function resultOf<K extends keyof RefByKind>(ctx: StepContext, id: ResourceId<K>): RefByKind[K] {
  return ctx.result(stepRef<RefByKind[K]>(ensureName(id)));
}

/** The VPC and subnets find-network found. */
export function networkOf(ctx: StepContext): Network {
  return ctx.result(stepRef<Network>(FIND_NETWORK));
}

/** Wraps a step so that the AWS SDK's own retries surface as its step.retrying events. */
export function awsStep<N, R>(step: Step<N, R>): Step<N, R> {
  return {
    ...step,
    check: (ctx) => withCallObserver(ctx, () => step.check(ctx)),
    ...(step.apply ? { apply: (ctx, needed) => withCallObserver(ctx, () => step.apply!(ctx, needed)) } : {}),
    ...(step.wait ? { wait: (ctx, applied) => withCallObserver(ctx, () => step.wait!(ctx, applied)) } : {}),
  };
}

/** Tags to write at creation: the plan's and the run that made it. */
export function creationTags(tags: Record<string, string>, runId: string): Record<string, string> {
  return { ...tags, [TAG.createdBy]: runId };
}

/** The desired tags that are missing or different (created-by is never compared). */
export function tagsToSet(
  desired: Record<string, string>,
  actual: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(desired).filter(([k, v]) => k !== TAG.createdBy && actual[k] !== v),
  );
}

/**
 * The plan's tags a resource found by name lacks, once its tags say it is the planned owner's
 * (the app and, for a colour's resource, the colour its planned tags name): NOT_OWNED (exit 6)
 * for another app's or colour's resource, and for one without kubecontrol's tags unless the run
 * adopts (`--adopt`), which then writes the plan's tags and who adopted it.
 */
export function claimTags(
  r: { kind: string; name: string; tags: Record<string, string> },
  actual: Record<string, string>,
  env: Pick<StackEnv, "runId" | "adopt">,
): Record<string, string> {
  const owner = { app: r.tags[TAG.app] ?? "", colour: r.tags[TAG.colour] as Colour | undefined };
  const verdict = assertOwned(`${r.kind} ${r.name}`, actual, owner, {
    action: "adopt or change",
    adopt: env.adopt === true,
  });
  const set = tagsToSet(r.tags, actual);
  if (verdict === "adopting") {
    currentObserver()?.log("warn", `adopting ${r.kind} ${r.name}, which has no kubecontrol tags (--adopt)`);
    return { ...set, [ADOPTED_BY]: env.runId };
  }
  return set;
}

/**
 * `find` for createOrAdopt: what a create that failed (already exists, or no answer) finds by
 * the resource's name is adopted only when its tags say it is the planned owner's (claimTags:
 * NOT_OWNED otherwise), so a name taken by another app a moment ago is never taken over.
 */
export function ownedFind<T>(
  find: () => Promise<T | undefined>,
  tagsOf: (found: T) => Promise<Record<string, string> | undefined> | Record<string, string> | undefined,
  r: { kind: string; name: string; tags: Record<string, string> },
  env: Pick<StackEnv, "runId" | "adopt">,
): () => Promise<T | undefined> {
  return async () => {
    const found = await find();
    if (found !== undefined) claimTags(r, (await tagsOf(found)) ?? {}, env);
    return found;
  };
}

/** `[{Key, Value}]` as a record. */
export function tagRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

/** A record as `[{Key, Value}]`. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

// The call was refused before anything was done: trying again cannot make a second resource.
const REFUSED = [
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
];

/**
 * Creates, or adopts what is already there. Creates go out with a single SDK attempt (moto
 * ignores idempotency tokens, and an SDK retry of a create whose answer was lost would make a
 * second one): after an unanswered or failed attempt this looks again, adopts what it finds,
 * and only then tries once more, with capped backoff and jitter, each attempt reported.
 */
export async function createOrAdopt<T>(
  create: () => Promise<T>,
  find: () => Promise<T | undefined>,
  alreadyExists: string[],
  attempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withAttempt(attempt, attempts, create);
    } catch (err) {
      // Not an answer from AWS (the lease's gate refused the call, a cancellation): stop here.
      if (err instanceof KubecontrolError && err.code !== "AWS") throw err;
      if (hasCode(err, ...alreadyExists)) {
        const found = await find();
        if (found !== undefined) return found;
        throw err;
      }
      const refused = hasCode(err, ...REFUSED);
      if (!refused && !isAmbiguous(err)) throw err;
      if (!refused) {
        const found = await find();
        if (found !== undefined) return found;
      }
      if (attempt >= attempts) throw err;
      const delayMs = Math.round(Math.random() * Math.min(20_000, 300 * 2 ** (attempt - 1)));
      currentObserver()?.retrying(
        attempt + 1,
        `create again after ${awsErrorCode(err)} (looked first: nothing made)`,
        delayMs,
      );
      const signal = currentObserver()?.signal;
      await sleep(delayMs, signal);
      // A run that was stopped makes no further attempt (the sleep ends early on abort).
      if (signal?.aborted) throw signal.reason ?? err;
    }
  }
}

/**
 * Retries a call through errors AWS means as "not yet" but the SDK does not retry (a role not
 * yet assumable, a resource still in use, a scaling activity in progress), each attempt reported.
 */
export function retryEventual<T>(
  ctx: StepContext,
  what: string,
  fn: () => Promise<T>,
  transient: (err: unknown) => boolean,
  attempts = 12,
): Promise<T> {
  return retry(fn, {
    attempts,
    baseDelayMs: 1000,
    maxDelayMs: 20_000,
    signal: ctx.signal,
    retryable: transient,
    onRetry: (attempt, err, delayMs) =>
      ctx.retrying(attempt + 1, `${what}: ${(err as Error).message.slice(0, 200)}`, delayMs),
  });
}

/** Poll pacing for waits. */
export function pollPace(env: Pick<StackEnv, "pace">): { initialDelayMs: number; maxDelayMs: number } {
  return { initialDelayMs: env.pace?.pollMs ?? 2_000, maxDelayMs: env.pace?.maxPollMs ?? 15_000 };
}

/** Waits until `find` finds nothing (a deletion, which AWS does asynchronously, has ended). */
export async function waitGone(
  ctx: StepContext,
  what: string,
  find: () => Promise<unknown>,
  timeoutMs: number,
  env: Pick<StackEnv, "pace">,
): Promise<void> {
  ctx.waiting(what);
  await waitUntil(
    async () =>
      (await find()) === undefined ? { done: true, value: true } : { done: false, state: "exists" },
    { what, timeoutMs, signal: ctx.signal, ...pollPace(env) },
  );
}
