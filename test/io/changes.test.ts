import { describe, expect, it } from "vitest";
import { describeChanges, groupChanges } from "../../src/io/changes.js";

// The end summary groups what changed by what was done and the kind of thing, one line per kind
// wrapped under its first key, instead of one unwrapped line of step names.

const update = [
  "ensure-iam-role/cluster",
  "ensure-security-group/cluster",
  "ensure-security-group-rules/cluster",
  "ensure-security-group/nodes",
  "ensure-security-group/lb",
  "ensure-eks-cluster/main",
  "ensure-image",
  "wait-for-nodes",
  "ensure-kube-objects",
  "keep-live-image",
  "switch-dns",
  "wait-for-drain",
  "delete-security-group/cluster",
  "delete-eks-cluster/main",
  "delete-live-image-tags/blue",
];

describe("what changed, grouped", () => {
  it("by action, then kind, keys in the order the steps came", () => {
    expect(groupChanges(update)).toEqual([
      { action: "made", kind: "iam-role", keys: ["cluster"] },
      { action: "made", kind: "security-group", keys: ["cluster", "nodes", "lb"] },
      { action: "made", kind: "security-group-rules", keys: ["cluster"] },
      { action: "made", kind: "eks-cluster", keys: ["main"] },
      { action: "made", kind: "image", keys: [] },
      { action: "made", kind: "kube-objects", keys: [] },
      { action: "removed", kind: "security-group", keys: ["cluster"] },
      { action: "removed", kind: "eks-cluster", keys: ["main"] },
      { action: "removed", kind: "live-image-tags", keys: ["blue"] },
      { action: "dns", kind: "dns", keys: [] },
      { action: "waited", kind: "nodes", keys: [] },
      { action: "waited", kind: "drain", keys: [] },
      { action: "kept", kind: "live-image", keys: [] },
    ]);
  });

  it("as lines for people, wrapped under the first key", () => {
    const many = Array.from({ length: 12 }, (_, i) => `delete-security-group/group-${i}`);
    expect(describeChanges(groupChanges([...update.slice(0, 7), ...many]), 60)).toEqual([
      "  made or changed:",
      "    iam-role              cluster",
      "    security-group        cluster, nodes, lb",
      "    security-group-rules  cluster",
      "    eks-cluster           main",
      "    image",
      "  removed:",
      "    security-group        group-0, group-1, group-2,",
      "                          group-3, group-4, group-5,",
      "                          group-6, group-7, group-8,",
      "                          group-9, group-10, group-11",
    ]);
  });
});
