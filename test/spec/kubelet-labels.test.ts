import { describe, expect, it } from "vitest";
import { kubeletRefusesLabel } from "../../src/spec/kubelet-labels.js";
import { baseSpec, resolved } from "../helpers/apps.js";

// The node labels a pool may ask for are the ones the kubelet starts with (--node-labels): in the
// kubernetes.io and k8s.io namespaces only node.kubernetes.io/*, kubelet.kubernetes.io/* and the
// well-known labels the kubelet sets itself.

describe("the kubelet", () => {
  it.each([
    ["node-role.kubernetes.io/worker", true],
    ["kubernetes.io/role", true],
    ["k8s.io/team", true],
    ["example.k8s.io/team", true],
    ["node.kubernetes.io/lifecycle", false],
    ["kubelet.kubernetes.io/extra", false],
    ["kubernetes.io/arch", false],
    ["topology.kubernetes.io/zone", false],
    ["example.com/role", false],
    ["workload", false],
  ])("refuses %s: %s", (key, refused) => {
    expect(kubeletRefusesLabel(key) !== undefined).toBe(refused);
  });
});

describe("a pool's labels", () => {
  it("may be under node.kubernetes.io/, which the kubelet accepts", () => {
    const spec = baseSpec({
      hardware: {
        web: {
          instanceTypes: ["m6i.large"],
          min: 1,
          max: 3,
          labels: { "node.kubernetes.io/lifecycle": "spot" },
        },
      },
    });
    expect(resolved(spec).hardware.web!.labels).toEqual({ "node.kubernetes.io/lifecycle": "spot" });
  });
});
