import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { type Aws, createAws } from "../../src/aws/create-aws.js";
import { runSteps } from "../../src/engine/runner.js";
import type { RunReport, Step } from "../../src/engine/step.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import type { Colour } from "../../src/plan/names.js";
import { type Plan, planApp } from "../../src/plan/plan.js";
import { adminCall } from "../../src/sandbox/admin-client.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { exampleApp } from "../helpers/apps.js";
import { callCounts, type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

/** Sandbox pacing: moto answers at once, so polls need not wait seconds. */
export const PACE = { pollMs: 50, maxPollMs: 500 };

/**
 * The webapp example under a name of its own (its own repository and DNS record), so tests
 * never share resources, with each other or with the example itself.
 */
export async function uniqueWebapp(): Promise<ResolvedKubeApp> {
  const app = await exampleApp("webapp");
  const name = `webapp-${randomBytes(3).toString("hex")}`;
  return {
    ...app,
    name,
    image: { ...app.image, repository: name },
    ...(app.dns ? { dns: { ...app.dns, record: `${name}.${app.dns.zone}` } } : {}),
  };
}

/** One test's view of AWS: its own access key id, so the proxy counts (and faults) its calls alone. */
export interface TestAws {
  aws: Aws;
  accessKeyId: string;
  /** Calls the proxy saw from this test since the last reset: total, and the mutating ones by operation. */
  counts(): Promise<{ total: number; mutating: Record<string, number>; calls: Record<string, number> }>;
  resetCounts(): Promise<void>;
}

const READ_ONLY = /^(Describe|List|Get)/;

/** AWS clients signing with a fresh access key id, pointed at the sandbox. */
export function testAws(
  sbx: TestSandbox,
  o: { maxAttempts?: number; requestTimeoutMs?: number } = {},
): TestAws {
  const accessKeyId = testAccessKeyId();
  const aws = createAws({
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials: { accessKeyId, secretAccessKey: "sandbox" },
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
    requestTimeoutMs: o.requestTimeoutMs ?? 5_000,
  });
  return {
    aws,
    accessKeyId,
    async counts() {
      const c = await callCounts(sbx, accessKeyId);
      const mutating = Object.fromEntries(
        Object.entries(c.calls).filter(([op]) => !READ_ONLY.test(op.split(":")[1] ?? "")),
      );
      return { total: c.total, mutating, calls: c.calls };
    },
    async resetCounts() {
      await adminCall(`${sbx.proxyUrl}/_proxy/calls/reset?accessKeyId=${accessKeyId}`, { body: {} });
    },
  };
}

/** A colour's plan at a fixed version. */
export function planFor(app: ResolvedKubeApp, colour: Colour = "blue"): Plan {
  return planApp({ app, colour, version: "0123456789abcdef0123456789abcdef01234567" });
}

/** Runs steps and keeps their events, failing loudly with the failed steps' errors. */
export async function run(
  steps: Step[],
  concurrency = 8,
): Promise<{ report: RunReport; events: KubecontrolEvent[] }> {
  const events: KubecontrolEvent[] = [];
  const report = await runSteps(steps, { concurrency, emit: (e) => events.push(e), heartbeatMs: 1000 });
  if (process.env.KC_TEST_TIMING)
    for (const s of report.steps)
      if (s.durationMs > 1000) console.log(`slow step ${s.name}: ${s.durationMs} ms`);
  return { report, events };
}

/** The failures of a run, readable in an assertion message. */
export function failures(report: RunReport): string[] {
  return report.steps
    .filter((s) => s.status !== "succeeded")
    .map((s) => `${s.name}: ${s.status} ${s.error?.message ?? s.reason ?? ""}`);
}

const exec = promisify(execFile);

/** Runs the AWS CLI (v1) against the sandbox and parses its JSON answer. */
export async function awsCli(sbx: TestSandbox, args: string[]): Promise<unknown> {
  const { stdout } = await exec("aws", [...args, "--output", "json"], {
    env: { ...process.env, ...sbx.env, AWS_DEFAULT_REGION: sbx.region, AWS_PAGER: "" },
  });
  return stdout.trim() ? JSON.parse(stdout) : {};
}
