import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/build.global.ts", "test/setup/sandbox.global.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Most files wait on the sandbox (clusters, load balancers, moto), not the CPU: three at once
    // keep two cores busy, where one per core left them idle half the time.
    maxWorkers: 3,
    // The SDK's Node 20 notice, once per test worker, is noise in the report.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
