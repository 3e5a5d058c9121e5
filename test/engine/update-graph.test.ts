import { describe, expect, it } from "vitest";
import { type Aws, createAws } from "../../src/aws/create-aws.js";
import { retentionTags } from "../../src/engine/decide/retention.js";
import type { UpdateDecision } from "../../src/engine/decide/update.js";
import { validateGraph } from "../../src/engine/runner.js";
import type { Step, StepContext } from "../../src/engine/step.js";
import { RETENTION } from "../../src/engine/steps/aws/retention.js";
import { DRAIN, SWITCH_DNS } from "../../src/engine/steps/aws/switch-dns.js";
import { updateSteps } from "../../src/engine/workflows/update-graph.js";
import { EcrImages } from "../../src/images/ecr-images.js";
import { exampleApp } from "../helpers/apps.js";

// The update's step graph decides what may happen before what: DNS moves only after every step
// of the new colour (verification included) succeeded, and the old colour goes only after the
// switch and the drain. The runner skips a failed step's dependants, so these edges are what
// keep DNS untouched after a failed verification (exit 7) and the live colour standing.

const COMMIT = "c0ffee".padEnd(40, "0");

async function stepsFor(
  d: UpdateDecision,
  keepOld = false,
  keepForMs = 0,
  aws: Aws = createAws({ region: "us-east-1" }),
): Promise<Step[]> {
  const region = "us-east-1";
  const steps = updateSteps(
    {
      app: await exampleApp("hello"),
      aws,
      projectRoot: "/nonexistent",
      stateDir: "/nonexistent",
      ecr: await EcrImages.create({ region }),
      builder: () => Promise.reject(new Error("no build in a graph test")),
      keepOld,
      keepForMs,
      drainMs: 0,
    },
    d,
    COMMIT,
    "run-test",
    "arn:aws:sts::123456789012:user/deployer",
  );
  validateGraph(steps);
  return steps;
}

const byName = (steps: Step[], name: string) => steps.find((s) => s.name === name)!;
const deploy: UpdateDecision = {
  mode: "deploy",
  live: "blue",
  liveVersion: "old",
  target: "green",
  old: "blue",
  dnsSteps: [],
};

describe("update's step graph", () => {
  it("marks the colour a deploy retires again, a mark it carries being an earlier retirement's", async () => {
    // blue serves carrying the running mark a killed switch left on it
    const running = retentionTags(Date.now() - 60_000, { forMs: 3_600_000 });
    const aws = {
      eks: {
        describeCluster: async (name: string) => ({
          arn: `arn:${name}`,
          tags: name.endsWith("blue") ? running : {},
        }),
      },
    } as unknown as Aws;
    const mark = byName(await stepsFor(deploy, false, 3_600_000, aws), RETENTION);
    expect(await mark.check({} as StepContext)).toMatchObject({
      satisfied: false,
      needed: { tag: "arn:kc-hello-blue" },
    });
    // finishing an update whose switch was made: the mark on the colour left is its own
    const finish: UpdateDecision = { ...deploy, mode: "finish", live: "green" };
    const again = byName(await stepsFor(finish, false, 3_600_000, aws), RETENTION);
    if (again) expect(await again.check({} as StepContext)).toMatchObject({ satisfied: true });
  });

  it("switches DNS only after every step of the new colour, and removes the old one only after the drain", async () => {
    const steps = await stepsFor(deploy);
    const switchStep = byName(steps, SWITCH_DNS);
    const built = steps.slice(0, steps.indexOf(switchStep)).map((s) => s.name);
    // the new colour's own DNS step is left out: the switch moves both records at once
    expect(steps.filter((s) => s.name.startsWith("shift-dns/"))).toEqual([]);
    expect(built).toEqual(expect.arrayContaining(["ensure-kube-objects", "verify-targets", "ensure-image"]));
    expect(switchStep.dependsOn?.sort()).toEqual([...built].sort());
    // the colour that now serves loses any retention mark it carried before the drain
    expect(byName(steps, RETENTION).dependsOn).toEqual([SWITCH_DNS]);
    expect(byName(steps, DRAIN).dependsOn).toEqual([RETENTION]);
    const deletes = steps.filter((s) => s.name.startsWith("delete-"));
    expect(deletes.length).toBeGreaterThan(5);
    for (const s of deletes) expect(s.dependsOn, s.name).toContain(DRAIN);
    // one step finds the network for both colours
    expect(steps.filter((s) => s.name === "find-network")).toHaveLength(1);
  });

  it("moves DNS in the spec's steps: each share after the one before was judged, all of it last", async () => {
    const steps = await stepsFor({ ...deploy, dnsSteps: [10, 50] });
    const names = steps.map((s) => s.name);
    const built = names.slice(0, names.indexOf("shift-dns/10%"));
    expect(names.slice(names.indexOf("shift-dns/10%"), names.indexOf(SWITCH_DNS) + 1)).toEqual([
      "shift-dns/10%",
      "verify-shift/10%",
      "shift-dns/50%",
      "verify-shift/50%",
      SWITCH_DNS,
    ]);
    expect(byName(steps, "shift-dns/10%").dependsOn?.sort()).toEqual([...built].sort());
    expect(byName(steps, "verify-shift/10%").dependsOn).toEqual(["shift-dns/10%"]);
    expect(byName(steps, "shift-dns/50%").dependsOn).toEqual(["verify-shift/10%"]);
    expect(byName(steps, SWITCH_DNS).dependsOn).toEqual(["verify-shift/50%"]);
    expect(byName(steps, DRAIN).dependsOn).toEqual([RETENTION]);
  });

  it("keeps the old colour with --keep-old: marked after the switch, no drain, nothing deleted", async () => {
    const steps = await stepsFor(deploy, true);
    expect(byName(steps, RETENTION).description).toMatch(/keep blue at weight 0 until removed by hand/);
    expect(steps.filter((s) => s.name === DRAIN || s.name.startsWith("delete-"))).toEqual([]);
  });

  it("keeps the old colour for the spec's keepOldColourFor and ends: no step sleeps under the lease", async () => {
    const steps = await stepsFor(deploy, false, 3_600_000);
    expect(byName(steps, RETENTION).description).toMatch(/keep blue at weight 0 for 1h, then gc removes it/);
    expect(byName(steps, RETENTION).dependsOn).toEqual([SWITCH_DNS]);
    expect(steps.filter((s) => s.name === DRAIN || s.name.startsWith("delete-"))).toEqual([]);
  });

  it("only finishes when the live colour already runs the version: no colour is built", async () => {
    const steps = await stepsFor({
      mode: "finish",
      live: "green",
      liveVersion: COMMIT,
      target: "green",
      old: "blue",
      dnsSteps: [],
    });
    expect(steps.filter((s) => s.name.startsWith("ensure"))).toEqual([]);
    expect(byName(steps, SWITCH_DNS).dependsOn).toEqual([]);
    expect(byName(steps, SWITCH_DNS).description).toMatch(/to green/);
    for (const s of steps.filter((x) => x.name.startsWith("delete-"))) expect(s.dependsOn).toContain(DRAIN);
  });
});
