import type { TestProject } from "vitest/node";
import { sandboxDown } from "../../src/sandbox/lifecycle.js";
import { ensureTestSandbox } from "../helpers/sandbox.js";

/**
 * Brings the test sandbox up once per run (reusing one that is up) and provides it to tests
 * (`inject("sandbox")`). It stays up after the run, so the next run is warm; under CI, a
 * sandbox this run started is stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sandbox = await ensureTestSandbox();
  project.provide("sandbox", sandbox);
  return async () => {
    if (sandbox.startedHere && process.env.CI) await sandboxDown(sandbox.dir);
  };
}
