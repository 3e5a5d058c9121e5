import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planApp } from "../../src/plan/plan.js";
import { loadApp } from "../../src/spec/loader.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { inventory } from "../aws/inventory.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";

// Real kills: the CLI as a process, stopped dead by SIGKILL at a failpoint, then continued by
// `resume` or by running the command again. The whole matrix of points runs in-process
// (failpoints.test.ts); these check the same thing through a real process's death.

let project: E2eProject;
let app: ResolvedKubeApp;

const kubecontrol = (args: string[], env: NodeJS.ProcessEnv = {}) => project.kubecontrol(args, { env });

async function runs(): Promise<{ command: string; result: string; error: string | null }[]> {
  const out = await kubecontrol(["history", project.app, "-o", "json"]);
  return (JSON.parse(out.stdout) as { runs: { command: string; result: string; error: string | null }[] })
    .runs;
}

beforeAll(async () => {
  project = await e2eProject("kill");
  app = (await loadApp(path.join(project.root, "apps"), project.app)).app;
}, 120_000);

afterAll(() => project?.cleanup(), 180_000);

describe("a CLI run killed by SIGKILL", () => {
  it("create killed just after an AWS call is finished by resume, with nothing duplicated", async () => {
    // given a create killed right after it created the Auto Scaling Group
    const killed = await kubecontrol(["create", project.app, "--yes"], {
      KUBECONTROL_FAILPOINTS: "ensure-auto-scaling-group/general:after-apply",
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(killed.stderr).toContain("failpoint ensure-auto-scaling-group/general:after-apply");
    expect((await runs())[0]?.result).toBe("running");

    // and a dry run of resume says what it would continue, changing nothing
    const dry = await kubecontrol(["resume", project.app, "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/would resume create of \S+: run run-\S+ \(running/);
    expect(dry.stderr).toMatch(/dry run of create \S+ \(blue, [0-9a-f]{12}\): nothing was changed/);
    expect((await runs()).map((r) => r.result)).toEqual(["running"]);

    // when resume runs
    const resumed = await kubecontrol(["resume", project.app, "--yes"]);

    // then it continues the create at the version the killed run recorded, and finishes it
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /resuming create of \S+: run run-\S+ \(running, version [0-9a-f]{12}, blue\)/,
    );
    expect(resumed.stderr).toMatch(/created in/);
    const plan = planApp({ app, colour: "blue", version: "any" });
    const seen = await inventory(project.sbx, plan);
    for (const r of plan.aws) expect(seen.get(r.id)?.length, r.id).toBe(1);

    // and history has both runs: the killed one closed as interrupted by the one that took over
    const [last, first] = await runs();
    expect(last).toMatchObject({ command: "create", result: "succeeded" });
    expect(first).toMatchObject({ command: "create", result: "interrupted" });
    expect(first?.error).toMatch(/its process stopped .*taken over by run-/);

    // and a second resume has nothing to do
    const again = await kubecontrol(["resume", project.app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      /nothing to resume: the last run of \S+ \(create, run-\S+\) ended succeeded/,
    );
  }, 240_000);

  it("teardown killed after its first delete is finished by running it again", async () => {
    // given what a dry run says it would delete, changing nothing
    const dry = await kubecontrol(["teardown", project.app, "--colour", "blue", "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/dry run of teardown \S+ \(blue\): nothing was changed/);
    expect(dry.stderr).toMatch(/would change {2}delete-\S+/);
    expect(dry.stderr).toMatch(/note: DNS points at this colour \(weight 100\)/);
    const plan = planApp({ app, colour: "blue", version: "any" });
    expect(
      (await inventory(project.sbx, plan)).get(plan.aws.find((r) => r.kind === "eks-cluster")!.id),
    ).toHaveLength(1);

    // given a teardown killed right after its first AWS delete
    const killed = await kubecontrol(["teardown", project.app, "--colour", "blue", "--force", "--yes"], {
      KUBECONTROL_FAILPOINTS: "*:after-apply",
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");

    // when it runs again
    const again = await kubecontrol(["teardown", project.app, "--colour", "blue", "--force", "--yes"]);

    // then it finishes and nothing of the colour is left
    expect(again.status, again.stderr).toBe(0);
    const seen = await inventory(project.sbx, plan);
    const colourScoped = [...seen.keys()].filter((id) => !/^(iam-|ecr-)/.test(id));
    expect(colourScoped).toEqual([]);
    const [last, first] = await runs();
    expect(last).toMatchObject({ command: "teardown", result: "succeeded" });
    expect(first).toMatchObject({ command: "teardown", result: "interrupted" });
  }, 240_000);
});
