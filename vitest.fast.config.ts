import { defineConfig } from "vitest/config";

/**
 * The fast tier (`npm run test:fast`): decisions, plans, specs and steps tested without the
 * sandbox, on hand-made state and in-memory stand-ins. The default configuration runs these too,
 * with everything that needs the sandbox; this one starts nothing.
 */
export default defineConfig({
  test: {
    include: [
      "test/engine/live-colour.test.ts",
      "test/engine/layers.test.ts",
      "test/engine/health.test.ts",
      "test/engine/quotas.test.ts",
      "test/engine/runner.test.ts",
      "test/engine/ensure-step.test.ts",
      "test/engine/converge.test.ts",
      "test/engine/progress.test.ts",
      "test/engine/update-graph.test.ts",
      "test/engine/update-decision.test.ts",
      "test/engine/retention.test.ts",
      "test/engine/status-snapshot.test.ts",
      "test/engine/retention-step.test.ts",
      "test/cli/resume-options.test.ts",
      "test/engine/env-secret.test.ts",
      "test/engine/nodes-evidence.test.ts",
      "test/engine/observed-fixtures.test.ts",
      "test/plan/**/*.test.ts",
      "test/spec/schema.test.ts",
      "test/spec/kubelet-labels.test.ts",
      "test/kube/diff.test.ts",
      "test/io/renderers.test.ts",
      "test/cli/trigger.test.ts",
      "test/io/app-lines.test.ts",
      "test/io/changes.test.ts",
      "test/notify/webhook.test.ts",
      "test/io/render-tty.test.ts",
      "test/aws/certificate-match.test.ts",
      "test/aws/create-or-adopt.test.ts",
      "test/aws/read-once.test.ts",
      "test/http/connect-to.test.ts",
      "test/sandbox/proxy-rules.test.ts",
    ],
    testTimeout: 30_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
