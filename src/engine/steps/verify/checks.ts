import path from "node:path";
import type { Dispatcher } from "undici";
import type { Aws } from "../../../aws/create-aws.js";
import { KubecontrolError } from "../../../errors.js";
import { connectToDispatcher, probe } from "../../../http/connect-to.js";
import { describeRequestFailure } from "../../../http/failure.js";
import type { DnsRecord, Listener, TargetGroup } from "../../../plan/aws-types.js";
import type { Plan } from "../../../plan/plan.js";
import type { VerifyContext } from "../../../spec/define.js";
import { parseDuration } from "../../../spec/primitives.js";
import type { ResolvedKubeApp } from "../../../spec/resolve.js";
import { sleep } from "../../../wait.js";
import type { Step, StepContext } from "../../step.js";

/** The step that runs the spec's HTTP checks and verify hook against the new colour. */
export const VERIFY_CHECKS = "verify-checks";

/** Where the verify hook is; resolved by whoever loaded the spec (the hook's path is relative to it). */
export interface VerifyChecksOptions {
  hookFile?: string | undefined;
  /** Pause between failed attempts. */
  retryMs?: number;
  /** What to say after a failure (how to inspect and remove the colour). */
  hint?: string;
}

/** One HTTP check through one listener: the URL clients will use, and where it really goes. */
interface Probe {
  service: string;
  path: string;
  expectStatus: number;
  timeoutMs: number;
  url: string;
  /** The listener it goes through, as people name it: `HTTPS:443`. */
  via: string;
}

/** A failed check or hook: what failed, why, and whether waiting could mend it. */
interface Failure {
  what: string;
  cause: string;
  permanent: boolean;
}

const schemeOf = (l: Listener) =>
  l.properties.protocol === "HTTPS" || l.properties.protocol === "TLS" ? "https" : "http";

/** The URL of `listener` under the name clients use (the app's record), path excluded. */
function originOf(host: string, l: Listener): string {
  const scheme = schemeOf(l);
  const port = l.properties.port;
  return `${scheme}://${host}${port === (scheme === "https" ? 443 : 80) ? "" : `:${port}`}`;
}

/** The listeners that forward to `service`'s target group, HTTPS ones first. */
function listenersOf(plan: Plan, service: string): Listener[] {
  const tg = plan.aws.find(
    (r): r is TargetGroup => r.kind === "target-group" && r.properties.service === service,
  );
  if (!tg) return [];
  return plan.aws
    .filter((r): r is Listener => r.kind === "listener" && r.properties.targetGroup === tg.id)
    .sort((a, b) => Number(schemeOf(b) === "https") - Number(schemeOf(a) === "https"));
}

/** Every HTTP check of the spec, once through each listener that serves its service. */
function probesOf(app: ResolvedKubeApp, plan: Plan, host: string): Probe[] {
  return app.deploy.verify.http.flatMap((c) =>
    listenersOf(plan, c.service).map((l) => ({
      service: c.service,
      path: c.path,
      expectStatus: c.expectStatus,
      timeoutMs: (parseDuration(c.timeout) ?? 5) * 1000,
      url: `${originOf(host, l)}${c.path}`,
      via: `${l.properties.protocol}:${l.properties.port}`,
    })),
  );
}

/**
 * The app's own verification of a colour before DNS moves to it: each of the spec's HTTP checks
 * (deploy.verify.http), through every listener of its service, answered with its expected status,
 * then its verify hook (deploy.verify.hook). Requests connect to the colour's load balancer under
 * the app's own name (TLS server name, certificate and Host header as clients will see them).
 * Causes that can pass (refused, reset, 5xx) are retried until deploy.verify.timeout; causes
 * time cannot mend (a certificate that does not cover the name, an untrusted issuer, a hook that
 * cannot load) fail at once. Failing is VERIFY_FAILED with its evidence, so DNS stays where it was.
 */
export function verifyChecksStep(
  app: ResolvedKubeApp,
  plan: Plan,
  aws: Aws,
  dependsOn: string[],
  o: VerifyChecksOptions = {},
): Step {
  const { http, hook, timeout } = app.deploy.verify;
  const timeoutMs = (parseDuration(timeout) ?? 600) * 1000;
  const what = [
    ...http.map((c) => `GET ${c.path} on ${c.service} → ${c.expectStatus}`),
    ...(hook ? [`hook ${hook}`] : []),
  ];
  const lbName = plan.aws.find((r) => r.kind === "load-balancer")?.name;
  const record = plan.aws.find((r): r is DnsRecord => r.kind === "route53-record")?.properties.record;

  async function loadBalancerAddress(): Promise<string> {
    const lb = lbName ? await aws.elbv2.describeLoadBalancer(lbName) : undefined;
    if (!lb?.DNSName)
      throw new KubecontrolError("VERIFY_FAILED", `load balancer ${lbName ?? "(none planned)"} not found`, {
        ...(o.hint ? { hint: o.hint } : {}),
      });
    return lb.DNSName;
  }

  async function runProbes(ctx: StepContext, probes: Probe[], dispatcher: Dispatcher): Promise<Failure[]> {
    const failures: Failure[] = [];
    for (const p of probes) {
      const seen = await probe(p.url, { dispatcher, timeoutMs: p.timeoutMs, signal: ctx.signal });
      const what = `GET ${p.url} (${p.service}, ${p.via} of ${lbName})`;
      if (!seen.answered) failures.push({ what, ...seen.failure });
      else if (seen.status !== p.expectStatus)
        failures.push({
          what,
          cause: `answered ${seen.status}, expected ${p.expectStatus}${seen.bodyStart ? `: ${JSON.stringify(seen.bodyStart)}` : ""}`,
          permanent: false,
        });
    }
    return failures;
  }

  async function runHook(ctx: StepContext, c: VerifyContext, hookFile: string): Promise<Failure | undefined> {
    const what = `hook ${hook}`;
    let fn: unknown;
    try {
      const { importAppModule } = await import("../../../spec/loader.js");
      fn = ((await importAppModule(hookFile)) as { default?: unknown }).default;
    } catch (err) {
      return { what, cause: `could not load ${hookFile}: ${(err as Error).message}`, permanent: true };
    }
    if (typeof fn !== "function")
      return {
        what,
        cause: `${path.basename(hookFile)}: expected a default export function(context)`,
        permanent: true,
      };
    try {
      await (fn as (c: VerifyContext) => Promise<void>)(c);
      return undefined;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const message = (err as Error).message ?? String(err);
      // A fetch that failed says only "fetch failed": its cause says why.
      const network = (err as { cause?: unknown }).cause
        ? describeRequestFailure(err, { host: new URL(c.baseUrl).hostname })
        : undefined;
      return network
        ? { what, cause: `${message}: ${network.cause}`, permanent: network.permanent }
        : { what, cause: message, permanent: false };
    }
  }

  return {
    name: VERIFY_CHECKS,
    description: what.length > 0 ? `verify: ${what.join(", ")}` : "verify: no checks in the spec",
    dependsOn,
    timeoutMs: timeoutMs + 30_000,
    // Verification reads and changes nothing, so it runs as the check: judged on every run, and
    // a re-run that finds everything in place stays a no-op.
    async check(ctx) {
      if (what.length === 0)
        return {
          satisfied: true,
          reason: "the spec has no HTTP checks or verify hook",
          value: "nothing to check",
        };
      const address = await loadBalancerAddress();
      const host = record ?? address;
      const dispatcher = await connectToDispatcher({ host, address });
      try {
        const probes = probesOf(app, plan, host);
        const hookContext: VerifyContext = {
          app: app.name,
          colour: plan.colour,
          version: plan.version,
          baseUrl: probes[0]
            ? new URL(probes[0].url).origin
            : (firstListenerOrigin(plan, host) ?? `http://${host}`),
          fetch: boundFetch(dispatcher),
          signal: ctx.signal,
        };
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const failures = await runProbes(ctx, probes, dispatcher);
          if (failures.length === 0 && hook && o.hookFile) {
            const failed = await runHook(ctx, hookContext, o.hookFile);
            if (failed) failures.push(failed);
          }
          if (failures.length === 0) break;
          const permanent = failures.find((f) => f.permanent);
          if (permanent || Date.now() >= deadline) {
            const first = permanent ?? failures[0]!;
            throw new KubecontrolError(
              "VERIFY_FAILED",
              `verification failed: ${first.what}: ${first.cause}${permanent ? " (waiting cannot mend this)" : ""}`,
              {
                details: { checks: what, failures },
                ...(o.hint ? { hint: o.hint } : {}),
              },
            );
          }
          ctx.waiting(`checks to pass (last: ${failures[0]!.what}: ${failures[0]!.cause})`);
          await sleep(o.retryMs ?? 1000, ctx.signal);
          if (ctx.signal.aborted) throw ctx.signal.reason;
        }
      } finally {
        await dispatcher.close().catch(() => {});
      }
      const passed = `${what.length} check(s) passed`;
      return { satisfied: true, reason: passed, value: passed };
    },
    summarize: (_changed, passed) => (typeof passed === "string" ? passed : "checked"),
  };
}

function firstListenerOrigin(plan: Plan, host: string): string | undefined {
  const l = plan.aws.find((r): r is Listener => r.kind === "listener");
  return l ? originOf(host, l) : undefined;
}

/** A fetch whose requests go through `dispatcher` (to the load balancer, under the app's name). */
function boundFetch(dispatcher: Dispatcher): typeof globalThis.fetch {
  return (async (input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit) => {
    const { fetch } = await import("undici");
    return fetch(input as never, { ...(init as object), dispatcher } as never);
  }) as unknown as typeof globalThis.fetch;
}
