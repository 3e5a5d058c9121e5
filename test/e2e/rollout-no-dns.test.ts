import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";

// An app with no load-balanced service has no DNS name: its live colour is the one whose cluster
// exists, and a rollout onto it works (it once failed reading a DNS record the app cannot have).

let p: E2eProject;

beforeAll(async () => {
  p = await e2eProject("nodns", (spec) =>
    spec.replace(/ {2}services: \{[\s\S]*?\n {2}\},\n/, "").replace(/ {2}dns: \{.*\},\n/, ""),
  );
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

describe("rollout of an app without a load balancer or DNS name", () => {
  it("rolls the one colour onto a new version, judging its workloads", async () => {
    const spec = (await p.kubecontrol(["plan", p.app, "-o", "json"])).stdout;
    expect(spec).not.toContain("route53-record");
    expect(spec).not.toContain('"load-balancer"');

    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);

    const v2 = p.commitChange("v2");
    const rolled = await p.kubecontrol(["rollout", p.app, "--version", v2, "--yes"]);
    expect(rolled.status, rolled.stderr).toBe(0);
    expect(rolled.stderr).toMatch(/roll-out-images: done/);
    expect(rolled.stderr).toMatch(/verify-workloads: (done|no change)/);
  }, 300_000);
});
