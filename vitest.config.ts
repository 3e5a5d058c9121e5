import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/build.global.ts", "test/setup/sandbox.global.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The SDK's Node 20 notice, once per test worker, is noise in the report.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
