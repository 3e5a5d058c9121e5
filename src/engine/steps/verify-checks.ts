import path from "node:path";
import type { Aws } from "../../aws/create-aws.js";
import { KubecontrolError } from "../../errors.js";
import type { Listener, TargetGroup } from "../../plan/aws-types.js";
import type { Plan } from "../../plan/plan.js";
import type { VerifyContext } from "../../spec/define.js";
import { parseDuration } from "../../spec/primitives.js";
import type { ResolvedKubeApp } from "../../spec/resolve.js";
import type { Step, StepContext } from "../step.js";
import { sleep } from "../wait-until.js";

/** The step that runs the spec's HTTP checks and verify hook against the new colour. */
export const VERIFY_CHECKS = "verifyChecks";

/** Where the verify hook is; resolved by whoever loaded the spec (the hook's path is relative to it). */
export interface VerifyChecksOptions {
  hookFile?: string | undefined;
  /** Pause between failed attempts. */
  retryMs?: number;
  /** What to say after a failure (how to inspect and remove the colour). */
  hint?: string;
}

/** The URL of the listener that forwards to `service`'s target group, through the colour's load balancer. */
function listenerUrl(plan: Plan, dnsName: string, service: string): string | undefined {
  const tg = plan.aws.find(
    (r): r is TargetGroup => r.kind === "target-group" && r.properties.service === service,
  );
  const listener = tg
    ? plan.aws.find((r): r is Listener => r.kind === "listener" && r.properties.targetGroup === tg.id)
    : undefined;
  if (!listener) return undefined;
  const scheme = listener.properties.protocol === "HTTPS" ? "https" : "http";
  const port = listener.properties.port;
  const defaultPort = scheme === "https" ? 443 : 80;
  return `${scheme}://${dnsName}${port === defaultPort ? "" : `:${port}`}`;
}

/**
 * The app's own verification of a colour before DNS moves to it: each of the spec's HTTP checks
 * (deploy.verify.http) answered with its expected status through the colour's load balancer,
 * then its verify hook (deploy.verify.hook), retried until deploy.verify.timeout. Failing is
 * VERIFY_FAILED, so DNS stays where it was. Nothing to check: the step is satisfied at once.
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

  async function baseUrl(): Promise<string> {
    const lb = lbName ? await aws.elbv2.describeLoadBalancer(lbName) : undefined;
    if (!lb?.DNSName)
      throw new KubecontrolError("VERIFY_FAILED", `load balancer ${lbName ?? "(none planned)"} not found`);
    return lb.DNSName;
  }

  /** One pass over every check; the first failure's description, or undefined. */
  async function attempt(ctx: StepContext, dnsName: string): Promise<string | undefined> {
    for (const c of http) {
      const url = listenerUrl(plan, dnsName, c.service);
      if (!url) return `no load-balanced listener for service ${c.service}`;
      const perCheck = AbortSignal.any([
        ctx.signal,
        AbortSignal.timeout((parseDuration(c.timeout) ?? 5) * 1000),
      ]);
      try {
        const res = await fetch(`${url}${c.path}`, { signal: perCheck, redirect: "manual" });
        await res.body?.cancel();
        if (res.status !== c.expectStatus)
          return `GET ${c.path} on ${c.service} answered ${res.status}, expected ${c.expectStatus}`;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        return `GET ${c.path} on ${c.service}: ${(err as Error).message}`;
      }
    }
    if (hook && o.hookFile) {
      const { importAppModule } = await import("../../spec/loader.js");
      const mod = (await importAppModule(o.hookFile)) as { default?: unknown };
      if (typeof mod.default !== "function")
        return `${path.basename(o.hookFile)}: expected a default export function(context)`;
      const context: VerifyContext = {
        app: app.name,
        colour: plan.colour,
        version: plan.version,
        baseUrl: listenerUrl(plan, dnsName, http[0]?.service ?? firstService(plan)) ?? `http://${dnsName}`,
        fetch: globalThis.fetch,
        signal: ctx.signal,
      };
      try {
        await (mod.default as (c: VerifyContext) => Promise<void>)(context);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        return `hook ${hook}: ${(err as Error).message}`;
      }
    }
    return undefined;
  }

  return {
    name: VERIFY_CHECKS,
    description: what.length > 0 ? `verify: ${what.join(", ")}` : "verify: no checks in the spec",
    dependsOn,
    timeoutMs: timeoutMs + 30_000,
    // Verification reads and changes nothing, so it runs as the check: a re-run that finds
    // everything in place stays a no-op.
    async check(ctx) {
      if (what.length === 0)
        return {
          satisfied: true,
          reason: "the spec has no HTTP checks or verify hook",
          value: "nothing to check",
        };
      const dnsName = await baseUrl();
      const deadline = Date.now() + timeoutMs;
      let failure = await attempt(ctx, dnsName);
      while (failure !== undefined) {
        if (Date.now() >= deadline)
          throw new KubecontrolError("VERIFY_FAILED", `verification failed: ${failure}`, {
            details: { checks: what },
            ...(o.hint ? { hint: o.hint } : {}),
          });
        ctx.waiting(`checks to pass (last: ${failure})`);
        await sleep(o.retryMs ?? 1000, ctx.signal);
        failure = await attempt(ctx, dnsName);
      }
      const passed = `${what.length} check(s) passed`;
      return { satisfied: true, reason: passed, value: passed };
    },
    summarize: (_changed, passed) => (typeof passed === "string" ? passed : "checked"),
  };
}

function firstService(plan: Plan): string {
  return plan.aws.find((r): r is TargetGroup => r.kind === "target-group")?.properties.service ?? "";
}
