import type { TestProject } from "vitest/node";
import { sandboxDown } from "../../src/sandbox/lifecycle.js";
import { ensureTestSandbox } from "../helpers/sandbox.js";

/**
 * Brings the test sandboxes up once per run (reusing those that are up) and provides them to
 * tests: `inject("sandbox")`, the whole sandbox, and `inject("awsSandbox")`, AWS alone for the
 * tests of moto's mends. They stay up after the run, so the next run is warm; under CI, those
 * this run started are stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [sandbox, awsSandbox] = await Promise.all([
    ensureTestSandbox("sandbox"),
    ensureTestSandbox("awsSandbox"),
  ]);
  project.provide("sandbox", sandbox);
  project.provide("awsSandbox", awsSandbox);
  return async () => {
    for (const s of [sandbox, awsSandbox]) if (s.startedHere && process.env.CI) await sandboxDown(s.dir);
  };
}
