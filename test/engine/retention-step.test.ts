import { describe, expect, it } from "vitest";
import type { Aws } from "../../src/aws/create-aws.js";
import { retentionTags } from "../../src/engine/decide/retention.js";
import type { StepContext } from "../../src/engine/step.js";
import { retentionStep } from "../../src/engine/steps/aws/retention.js";
import type { Plan } from "../../src/plan/plan.js";

// mark-retention's check on hand-made cluster tags: a colour keeps its first mark when the run is
// done again, and is marked again from now when the mark is an earlier retirement's (the colour
// had weight as the run began: a killed run left the mark on it while it served), or has passed.

const HOUR = 3_600_000;
const plan = (colour: string) => ({ colour, cluster: `kc-app-${colour}` }) as unknown as Plan;

function step(keptTags: Record<string, string>, o: { retiring?: boolean } = {}) {
  const aws = {
    eks: {
      describeCluster: async (name: string) => ({
        arn: `arn:${name}`,
        tags: name.endsWith("blue") ? keptTags : {},
      }),
    },
  } as unknown as Aws;
  return retentionStep({
    live: plan("green"),
    kept: plan("blue"),
    keep: { forMs: HOUR },
    aws,
    dependsOn: [],
    ...o,
  }).check({} as StepContext);
}

describe("mark-retention", () => {
  it("keeps a colour's running mark when the run is done again (no extension)", async () => {
    const running = retentionTags(Date.now() - 60_000, { forMs: HOUR });
    expect(await step(running)).toMatchObject({ satisfied: true });
  });

  it("marks again a colour the run retires (it had weight as the run began), whatever it carries", async () => {
    const running = retentionTags(Date.now() - 60_000, { forMs: HOUR });
    expect(await step(running, { retiring: true })).toMatchObject({
      satisfied: false,
      needed: { tag: "arn:kc-app-blue" },
    });
  });

  it("marks again a timed mark already passed, and a mark of the other kind", async () => {
    expect(await step(retentionTags(Date.now() - 2 * HOUR, { forMs: HOUR }))).toMatchObject({
      satisfied: false,
    });
    expect(await step(retentionTags(Date.now(), { forever: true }))).toMatchObject({ satisfied: false });
    expect(await step({})).toMatchObject({ satisfied: false });
  });
});
