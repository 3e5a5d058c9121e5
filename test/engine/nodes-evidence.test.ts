import { describe, expect, it } from "vitest";
import { nodesEvidence } from "../../src/engine/steps/kube/wait-for-nodes.js";

// A node wait that times out says what each short pool has, and when instances run that never
// registered (a kubelet that refused its node labels never starts; the sandbox does the same),
// says what keeps a kubelet from joining.

describe("the evidence of a node wait that timed out", () => {
  it("names instances that never registered, and why that happens", () => {
    const text = nodesEvidence([
      { pool: "web", wanted: 2, registered: 0, ready: 0, instances: 2, notReady: [] },
      { pool: "batch", wanted: 1, registered: 1, ready: 1, instances: 1, notReady: [] },
    ]);
    expect(text).toBe(
      "pool web: 0 of 2 nodes Ready, 0 registered, 2 instance(s) in its Auto Scaling Group; 2 instance(s) never registered: their kubelet did not start or could not join (a node label or taint it refuses, the node role's access entry, the cluster's endpoint from the subnets)",
    );
  });

  it("says nothing of registration when every instance registered", () => {
    expect(
      nodesEvidence([
        { pool: "web", wanted: 2, registered: 2, ready: 1, instances: 2, notReady: ["n1 Ready=False"] },
      ]),
    ).toBe(
      "pool web: 1 of 2 nodes Ready, 2 registered, 2 instance(s) in its Auto Scaling Group; n1 Ready=False",
    );
  });
});
