import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/build.global.ts", "test/setup/sandbox.global.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Most files wait on the sandbox (clusters, load balancers, moto), not the CPU: two at once keep
    // two cores busy. Three at once ran a dozen control planes together, and their pods at times
    // stood unscheduled for minutes.
    maxWorkers: 2,
    // The SDK's Node 20 notice, once per test worker, is noise in the report.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
