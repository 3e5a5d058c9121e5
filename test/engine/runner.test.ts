import { describe, expect, it } from "vitest";
import { retry } from "../../src/engine/retry.js";
import { runSteps, validateGraph } from "../../src/engine/runner.js";
import { type Step, stepRef } from "../../src/engine/step.js";
import { dryRunFindings } from "../../src/engine/workflows/dry-run.js";
import { KubecontrolError } from "../../src/errors.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { waitUntil } from "../../src/wait.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A step over an in-memory "resource": check reads it, apply creates it. */
function resourceStep(
  name: string,
  world: Set<string>,
  o: Partial<Step> & { delayMs?: number; fail?: boolean } = {},
): Step {
  return {
    name,
    description: `ensure ${name}`,
    dependsOn: o.dependsOn,
    timeoutMs: o.timeoutMs,
    async check() {
      return world.has(name)
        ? { satisfied: true, reason: `${name} exists` }
        : { satisfied: false, reason: `${name} is missing`, needed: undefined };
    },
    async apply() {
      await tick(o.delayMs ?? 1);
      if (o.fail) throw new KubecontrolError("AWS", `${name} could not be made`);
      world.add(name);
      return name;
    },
  };
}

function recorder() {
  const events: KubecontrolEvent[] = [];
  return {
    events,
    emit: (e: KubecontrolEvent) => events.push(e),
    of: (type: string) => events.filter((e) => e.type === type),
  };
}

describe("the step runner", () => {
  it("given a graph, runs each step after its dependencies and reports what changed", async () => {
    const world = new Set<string>();
    const order: string[] = [];
    const steps = ["a", "b", "c"].map((n, i) => {
      const s = resourceStep(n, world, { dependsOn: i === 0 ? [] : [["a", "b", "c"][i - 1]!] });
      const apply = s.apply!.bind(s);
      s.apply = async (ctx, needed) => {
        order.push(n);
        return apply(ctx, needed);
      };
      return s;
    });
    const report = await runSteps(steps);
    expect(report.ok).toBe(true);
    expect(order).toEqual(["a", "b", "c"]);
    expect(report.steps.map((s) => s.changed)).toEqual([true, true, true]);
  });

  it("when run again, every check is satisfied and nothing is applied", async () => {
    const world = new Set<string>(["a", "b"]);
    const rec = recorder();
    const report = await runSteps(
      [resourceStep("a", world), resourceStep("b", world, { dependsOn: ["a"] })],
      { emit: rec.emit },
    );
    expect(report.steps.map((s) => s.changed)).toEqual([false, false]);
    expect(rec.of("step.succeeded").map((e) => (e as { summary: string }).summary)).toEqual([
      "already in place",
      "already in place",
    ]);
  });

  it("never runs more steps at once than the bound", async () => {
    const world = new Set<string>();
    let running = 0;
    let peak = 0;
    const steps = Array.from({ length: 10 }, (_, i) => {
      const s = resourceStep(`s${i}`, world);
      s.apply = async () => {
        running++;
        peak = Math.max(peak, running);
        await tick(10);
        running--;
        return undefined;
      };
      return s;
    });
    await runSteps(steps, { concurrency: 3 });
    expect(peak).toBe(3);
  });

  it("when a step fails, skips its dependants and finishes independent work", async () => {
    const world = new Set<string>();
    const rec = recorder();
    const report = await runSteps(
      [
        resourceStep("broken", world, { fail: true }),
        resourceStep("child", world, { dependsOn: ["broken"] }),
        resourceStep("grandchild", world, { dependsOn: ["child"] }),
        resourceStep("independent", world, { delayMs: 20 }),
      ],
      { emit: rec.emit },
    );
    expect(report.ok).toBe(false);
    expect(Object.fromEntries(report.steps.map((s) => [s.name, s.status]))).toEqual({
      broken: "failed",
      child: "skipped",
      grandchild: "skipped",
      independent: "succeeded",
    });
    expect(world.has("independent")).toBe(true);
    const failed = rec.of("step.failed")[0] as Extract<KubecontrolEvent, { type: "step.failed" }>;
    expect(failed.error).toMatchObject({ code: "AWS", message: "broken could not be made" });
  });

  it("fails a step that outlives its timeout, naming what it waited for", async () => {
    const step: Step = {
      name: "waitForCluster",
      description: "wait",
      timeoutMs: 50,
      check: async () => ({ satisfied: false, reason: "not active", needed: undefined }),
      apply: async (ctx) => {
        ctx.waiting("cluster kc-demo-blue to be ACTIVE");
        await tick(1000);
        return undefined;
      },
    };
    const report = await runSteps([step]);
    const err = report.steps[0]!.error as KubecontrolError;
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toBe(
      "waitForCluster timed out after 50ms while waiting for cluster kc-demo-blue to be ACTIVE",
    );
  });

  it("repeats what a waiting step waits for as a heartbeat", async () => {
    const rec = recorder();
    const step: Step = {
      name: "wait-for-nodes",
      description: "wait",
      check: async () => ({ satisfied: false, reason: "no nodes", needed: undefined }),
      apply: async (ctx) => {
        ctx.waiting("2 nodes Ready (0/2)");
        await tick(75);
        return undefined;
      },
    };
    await runSteps([step], { emit: rec.emit, heartbeatMs: 20 });
    const waits = rec.of("step.waiting");
    expect(waits.length).toBeGreaterThanOrEqual(3);
    expect(new Set(waits.map((w) => (w as { reason: string }).reason))).toEqual(
      new Set(["2 nodes Ready (0/2)"]),
    );
  });

  it("when cancelled, stops starting steps and reports the rest as cancelled", async () => {
    const world = new Set<string>();
    const controller = new AbortController();
    const slow: Step = {
      name: "slow",
      description: "slow",
      check: async () => ({ satisfied: false, reason: "x", needed: undefined }),
      apply: async (ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return undefined;
      },
    };
    setTimeout(() => controller.abort(), 20);
    const report = await runSteps([slow, resourceStep("after", world, { dependsOn: ["slow"] })], {
      signal: controller.signal,
    });
    expect(report.cancelled).toBe(true);
    expect(report.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled"]);
    expect(world.has("after")).toBe(false);
  });

  it("rejects unknown dependencies and cycles before running anything", () => {
    const world = new Set<string>();
    expect(() => validateGraph([resourceStep("a", world, { dependsOn: ["nope"] })])).toThrow(
      /unknown step "nope"/,
    );
    expect(() =>
      validateGraph([
        resourceStep("a", world, { dependsOn: ["b"] }),
        resourceStep("b", world, { dependsOn: ["a"] }),
      ]),
    ).toThrow(/cycle/);
  });
});

describe("the runner's plan mode (a dry run)", () => {
  /** role → cluster (reads the role's ARN) → objects (previews what it would apply); network stands alone. */
  function graph(world: Map<string, string>, applied: string[]): Step[] {
    const ensure = (name: string, deps: string[] = [], preview?: string[]): Step => ({
      name,
      description: `ensure ${name}`,
      dependsOn: deps,
      async check(ctx) {
        // A value an earlier step makes: unknown in a plan until that step has run.
        for (const d of deps) ctx.result(stepRef<string>(d));
        const found = world.get(name);
        return found
          ? { satisfied: true, reason: `${name} exists`, value: found }
          : { satisfied: false, reason: `${name} is missing`, needed: name };
      },
      async apply() {
        applied.push(name);
        world.set(name, `arn:${name}`);
        return `arn:${name}`;
      },
      ...(preview ? { preview: async () => preview } : {}),
    });
    return [
      ensure("network"),
      ensure("role"),
      ensure("cluster", ["role"]),
      ensure("objects", ["cluster"], ["apply deployment/web", "apply service/web"]),
    ];
  }

  it("given nothing exists, lists every step: what its check finds, and the rest as known after apply with previews", async () => {
    const applied: string[] = [];
    const report = await runSteps(graph(new Map([["network", "vpc-1"]]), applied), { plan: true });
    const f = dryRunFindings(report);
    expect(applied).toEqual([]);
    expect(report.ok).toBe(true);
    expect(f.wouldChange).toEqual([
      { step: "role", description: "ensure role", reason: "role is missing", action: "change" },
    ]);
    expect(f.afterApply).toEqual([
      { step: "cluster", description: "ensure cluster", changes: [], needs: ["role"] },
      {
        step: "objects",
        description: "ensure objects",
        changes: ["apply deployment/web", "apply service/web"],
        needs: ["cluster"],
      },
    ]);
    expect(f.errors).toEqual([]);
  });

  it("given the role exists, checks the cluster with the role's real value", async () => {
    const world = new Map([
      ["network", "vpc-1"],
      ["role", "arn:role"],
    ]);
    const f = dryRunFindings(await runSteps(graph(world, []), { plan: true }));
    expect(f.wouldChange.map((w) => w.step)).toEqual(["cluster"]);
    expect(f.afterApply.map((a) => a.step)).toEqual(["objects"]);
  });

  it("when a check reads a value known only after apply beyond its direct dependencies, lists it as known after apply", async () => {
    const world = new Map<string, string>();
    const steps: Step[] = [
      ...graph(world, []).slice(1, 2),
      {
        name: "sidecar",
        description: "reads the role without depending on a step that would change",
        dependsOn: ["role"],
        async check(ctx) {
          return { satisfied: true, reason: ctx.result(stepRef<string>("role")) };
        },
      },
    ];
    const f = dryRunFindings(await runSteps(steps, { plan: true }));
    expect(f.afterApply).toEqual([
      {
        step: "sidecar",
        description: "reads the role without depending on a step that would change",
        changes: [],
        needs: ["role"],
      },
    ]);
  });

  it("given everything exists, plans no change; a check that fails is a problem and its dependants are not checked", async () => {
    const world = new Map([
      ["network", "vpc-1"],
      ["role", "arn:role"],
      ["cluster", "arn:cluster"],
      ["objects", "3 objects"],
    ]);
    const none = dryRunFindings(await runSteps(graph(world, []), { plan: true }));
    expect(none).toEqual({ wouldChange: [], afterApply: [], unchecked: [], errors: [] });

    const broken = graph(world, []);
    broken[2] = {
      ...broken[2]!,
      async check() {
        throw new KubecontrolError("AWS", "AccessDenied: eks:DescribeCluster");
      },
    };
    const f = dryRunFindings(await runSteps(broken, { plan: true }));
    expect(f.errors).toEqual([{ step: "cluster", message: "AccessDenied: eks:DescribeCluster" }]);
    expect(f.unchecked).toEqual(["objects"]);
  });

  it("a step that reads a step that has not run is a graph bug, named", async () => {
    const report = await runSteps([
      {
        name: "lonely",
        description: "reads a step it does not depend on",
        async check(ctx) {
          return { satisfied: true, reason: String(ctx.result(stepRef<string>("elsewhere"))) };
        },
      },
    ]);
    expect(report.steps[0]!.error?.message).toMatch(/lonely read the result of elsewhere, which has not run/);
  });
});

describe("waitUntil", () => {
  it("polls until the condition holds", async () => {
    let n = 0;
    const value = await waitUntil(
      async () => (++n >= 3 ? { done: true, value: "ACTIVE" } : { done: false, state: "CREATING" }),
      {
        what: "cluster",
        timeoutMs: 5000,
        initialDelayMs: 5,
      },
    );
    expect(value).toBe("ACTIVE");
    expect(n).toBe(3);
  });

  it("times out naming what it waited for and the last state seen", async () => {
    await expect(
      waitUntil(async () => ({ done: false, state: "CREATING" }), {
        what: "cluster kc-x-blue",
        timeoutMs: 30,
        initialDelayMs: 5,
      }),
    ).rejects.toThrow("waiting for cluster kc-x-blue (last seen: CREATING)");
  });
});

describe("retry", () => {
  it("retries only what is retryable, up to the budget", async () => {
    let calls = 0;
    const transient = new KubecontrolError("AWS", "throttled", { retryable: true });
    await expect(
      retry(
        async () => {
          calls++;
          throw transient;
        },
        { attempts: 4, baseDelayMs: 1, retryable: (e) => (e as KubecontrolError).retryable },
      ),
    ).rejects.toBe(transient);
    expect(calls).toBe(4);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new KubecontrolError("AWS", "access denied");
        },
        { attempts: 4, baseDelayMs: 1, retryable: (e) => (e as KubecontrolError).retryable },
      ),
    ).rejects.toThrow("access denied");
    expect(calls).toBe(1);
  });
});
