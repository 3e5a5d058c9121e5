import { randomBytes } from "node:crypto";
import path from "node:path";
import { inject } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { sandboxEnv } from "../../src/sandbox/env.js";
import { requireUp, sandboxUp } from "../../src/sandbox/lifecycle.js";
import { defaultSeedRequirements, seedRequirementsFromApps } from "../../src/sandbox/seed.js";
import { loadApps } from "../../src/spec/loader.js";

/** What tests need of the shared test sandbox. */
export interface TestSandbox {
  dir: string;
  region: string;
  /** AWS_ENDPOINT_URL: the proxy. */
  endpoint: string;
  /** moto behind the launcher, for /_sandbox admin calls. */
  motoUrl: string;
  proxyUrl: string;
  env: Record<string, string>;
  /** True when this run started it (and so may stop it at the end). */
  startedHere: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The whole sandbox (AWS, control planes, registry, load balancers), shared by all tests. */
    sandbox: TestSandbox;
    /** AWS alone (moto and the proxy): for tests of moto's mends, which part 2's components would race. */
    awsSandbox: TestSandbox;
  }
}

/** Which test sandbox: everything, or AWS alone. */
export type TestSandboxKind = "sandbox" | "awsSandbox";

const root = path.resolve(import.meta.dirname, "../..");

/** The test sandboxes' directories: one pair per checkout, reused across runs. */
export const TEST_SANDBOX_DIR = process.env.KUBECONTROL_TEST_SANDBOX ?? path.join(root, ".sandbox", "test");
const DIRS: Record<TestSandboxKind, string> = {
  sandbox: TEST_SANDBOX_DIR,
  awsSandbox: `${TEST_SANDBOX_DIR}-aws`,
};

/** Brings a test sandbox up (or finds it up), seeded from this repo's apps/, with EKS delays at 0. */
export async function ensureTestSandbox(kind: TestSandboxKind = "sandbox"): Promise<TestSandbox> {
  return sandboxAt(DIRS[kind], kind === "awsSandbox" ? ["moto", "proxy"] : undefined);
}

/**
 * A sandbox in `dir` (brought up, or found up), seeded from this repo's apps/, with EKS delays
 * at 0. A test that changes what the whole account sees (a lowered quota) runs AWS alone in a
 * directory of its own, and stops it with sandboxDown.
 */
export async function sandboxAt(dir: string, only?: string[]): Promise<TestSandbox> {
  const region = "us-east-1";
  const { apps } = await loadApps(path.join(root, "apps"));
  const seed = seedRequirementsFromApps(
    apps.map((a) => a.app),
    defaultSeedRequirements(region),
  );
  // Two test files at once may each hold several clusters (an update holds two, a test of two
  // apps as many): at the default cap of four live control planes, one file's clusters stayed
  // CREATING until the other's were deleted, and both timed out. The watcher reads the cap when
  // it starts.
  process.env.KUBECONTROL_SANDBOX_MAX_CONTROL_PLANES ??= "14";
  const result = await sandboxUp({ dir, region, seed, only });
  const state = requireUp(dir);
  const motoUrl = state.components.moto!.address!;
  await adminCall(`${motoUrl}/_sandbox/config`, {
    body: { eksCreateDelaySeconds: 0, eksDeleteDelaySeconds: 0 },
  });
  const env = sandboxEnv(state);
  return {
    dir: state.dir,
    region: state.region,
    endpoint: env.AWS_ENDPOINT_URL!,
    motoUrl,
    proxyUrl: state.components.proxy!.address!,
    env,
    startedHere: !result.alreadyUp,
  };
}

/** A test sandbox provided by the global setup, or one brought up here when run without it. */
export async function testSandbox(kind: TestSandboxKind = "sandbox"): Promise<TestSandbox> {
  let provided: TestSandbox | undefined;
  try {
    provided = inject(kind);
  } catch {
    provided = undefined;
  }
  return provided ?? ensureTestSandbox(kind);
}

/** A fresh access key id: the proxy counts calls and scopes fault rules per key. */
export function testAccessKeyId(): string {
  return `AKIATEST${randomBytes(6).toString("hex").toUpperCase()}`;
}

/** SDK v3 client configuration for the sandbox, signing with `accessKeyId`. */
export function sdkConfig(sbx: TestSandbox, accessKeyId = testAccessKeyId()) {
  return {
    endpoint: sbx.endpoint,
    region: sbx.region,
    credentials: { accessKeyId, secretAccessKey: "sandbox" },
  };
}

/** A name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** The proxy's call counts for one access key id. */
export function callCounts(sbx: TestSandbox, accessKeyId: string) {
  return adminCall<{
    total: number;
    calls: Record<string, number>;
    faults: Record<string, Record<string, number>>;
  }>(`${sbx.proxyUrl}/_proxy/calls?accessKeyId=${accessKeyId}`);
}

/**
 * Makes an IAM role (under `path`) in the sandbox unless it exists; its ARN. EKS, as on AWS,
 * accepts access entries only for principals that exist.
 */
export async function ensureRole(sbx: TestSandbox, name: string, path = "/"): Promise<string> {
  const { IAMClient, CreateRoleCommand, GetRoleCommand } = await import("@aws-sdk/client-iam");
  const iam = new IAMClient(sdkConfig(sbx));
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!.Arn!;
  } catch {
    const trust = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
    };
    return (
      await iam.send(
        new CreateRoleCommand({
          RoleName: name,
          Path: path,
          AssumeRolePolicyDocument: JSON.stringify(trust),
        }),
      )
    ).Role!.Arn!;
  }
}
