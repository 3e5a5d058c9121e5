import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApps } from "../../src/spec/loader.js";
import { appsDir, repoRoot } from "../helpers/apps.js";
import { removeApp, weightedRecords } from "../helpers/e2e-project.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { type TestSandbox, testAccessKeyId, testSandbox } from "../helpers/sandbox.js";

// Every example in apps/ deploys: each is created in the sandbox exactly as README shows it
// (`kubecontrol create <app>` from this checkout, verification included), its DNS record read
// back with the AWS CLI, then torn down. An example that does not deploy fails here.

const { apps } = await loadApps(appsDir);
const examples = apps.map((a) => ({ name: a.app.name, record: a.app.dns?.record }));

let sbx: TestSandbox;
let stateDir: string;

const kubecontrol = (args: string[]) =>
  spawnCli(["--apps", appsDir, ...args], {
    cwd: repoRoot,
    timeoutMs: 200_000,
    env: { ...process.env, ...sbx.env, NO_COLOR: "1", KUBECONTROL_STATE_DIR: stateDir },
    accessKeyId: testAccessKeyId(),
  }).done;

beforeAll(async () => {
  sbx = await testSandbox();
  stateDir = mkdtempSync(path.join(tmpdir(), "kc-examples-"));
  // A run of this file that was killed may have left an example behind: start from nothing.
  await Promise.all(examples.map((e) => removeApp(sbx, appsDir, e.name)));
}, 240_000);

afterAll(async () => {
  if (sbx) await Promise.all(examples.map((e) => removeApp(sbx, appsDir, e.name)));
  rmSync(stateDir, { recursive: true, force: true });
}, 240_000);

describe("the examples in apps/", () => {
  it("are at least hello and webapp", () => {
    expect(examples.map((e) => e.name)).toEqual(expect.arrayContaining(["hello", "webapp"]));
  });

  it.concurrent.each(examples)(
    "$name: create succeeds with its verification, DNS points at it, teardown removes it",
    async ({ name, record }) => {
      // when the example is created as README shows
      const created = await kubecontrol(["create", name, "--yes"]);

      // then it succeeds, its own verification included
      expect(created.status, created.stderr).toBe(0);
      expect(created.stderr).toMatch(
        /verify-checks: (done|no change): (\d+ check\(s\) passed|nothing to check)/,
      );
      // and its DNS record gives blue all the weight (read with the AWS CLI)
      if (record) {
        const sets = await weightedRecords(sbx, record);
        expect(sets.map((s) => [s.SetIdentifier, s.Weight])).toEqual([[`kc-${name}-blue`, 100]]);
      }

      // when it is torn down, then its colour and record are gone
      const removed = await kubecontrol(["teardown", name, "--colour", "blue", "--force", "--yes"]);
      expect(removed.status, removed.stderr).toBe(0);
      if (record) expect(await weightedRecords(sbx, record)).toEqual([]);
    },
    420_000,
  );
});
