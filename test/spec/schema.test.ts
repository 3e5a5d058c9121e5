import { describe, expect, it } from "vitest";
import { companyDefaults } from "../../src/spec/defaults/company.js";
import { cronProblem, instanceTypeArch, nearest, parseDuration } from "../../src/spec/primitives.js";
import { formatPath } from "../../src/spec/problems.js";
import { validateKubeApp } from "../../src/spec/validate.js";
import { baseSpec, exampleApp, resolved } from "../helpers/apps.js";

describe("the example apps", () => {
  it("hello and webapp are valid", async () => {
    expect((await exampleApp("hello")).name).toBe("hello");
    const webapp = await exampleApp("webapp");
    expect(Object.keys(webapp.hardware)).toEqual(["web", "worker"]);
    expect(webapp.deploy.schedule).toBe("0 */6 * * *");
  });
});

describe("company defaults", () => {
  it("given no dns section, when the app has a load balancer, then it gets <app>.<default zone>", () => {
    const app = resolved(baseSpec());
    expect(app.dns).toEqual({
      zone: companyDefaults.dnsZone,
      record: `demo.${companyDefaults.dnsZone}`,
      ttl: 60,
    });
  });

  it("given no load-balanced service, then there is no DNS record to make", () => {
    const app = resolved(baseSpec({ services: {} }));
    expect(app.dns).toBeUndefined();
  });

  it("fills desired from min, the network from the company VPC, and the region from the operator", () => {
    const result = validateKubeApp(baseSpec({ region: undefined }), { region: "eu-west-1" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.app.hardware.web!.desired).toBe(1);
    expect(result.app.network).toEqual(companyDefaults.network);
    expect(result.app.region).toBe("eu-west-1");
  });

  it("adds the metrics and logging add-ons unless the app opts out", () => {
    expect(resolved(baseSpec()).addonWorkloads.map((a) => a.name)).toEqual(["log-router", "metrics-agent"]);
    expect(
      resolved(baseSpec({ addons: { metrics: false, logging: true } })).addonWorkloads.map((a) => a.name),
    ).toEqual(["log-router"]);
    expect(resolved(baseSpec({ addons: { metrics: false, logging: false } })).addonWorkloads).toEqual([]);
  });
});

describe("validation by meaning", () => {
  const problemsOf = (spec: unknown) => {
    const r = validateKubeApp(spec);
    return r.ok ? [] : r.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
  };

  it("suggests the nearest key for a typo", () => {
    const r = validateKubeApp({ ...baseSpec(), ownr: "x" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.hint).toBe('did you mean "owner"?');
  });

  it("rejects a listener certificate on plain HTTP", () => {
    const spec = baseSpec();
    spec.services!.web!.loadBalancer = {
      listeners: [{ port: 80, protocol: "HTTP", certificate: "demo.example.com" }],
    };
    expect(problemsOf(spec)).toEqual([
      'services.web.loadBalancer.listeners[0].certificate: expected no certificate on a HTTP listener, found "demo.example.com"',
    ]);
  });

  it("rejects two services on one node port", () => {
    const spec = baseSpec();
    spec.services = {
      a: { component: "web", port: 80, targetPort: "http", nodePort: 30080 },
      b: { component: "web", port: 81, targetPort: "http", nodePort: 30080 },
    };
    expect(problemsOf(spec)).toEqual([
      'services.b.nodePort: expected a node port of its own, found 30080, also used by service "a"',
    ]);
  });

  it("rejects dns steps that do not end at 100", () => {
    expect(problemsOf(baseSpec({ deploy: { dnsSteps: [10, 50] } }))[0]).toContain("ending at 100");
  });

  it("accepts a record at the zone apex", () => {
    expect(problemsOf(baseSpec({ dns: { zone: "example.com", record: "example.com" } }))).toEqual([]);
  });
});

describe("primitives", () => {
  it("tells Graviton instance types from x86 ones", () => {
    expect(instanceTypeArch("m6g.large")).toBe("arm64");
    expect(instanceTypeArch("c7gn.16xlarge")).toBe("arm64");
    expect(instanceTypeArch("t4g.micro")).toBe("arm64");
    expect(instanceTypeArch("a1.medium")).toBe("arm64");
    expect(instanceTypeArch("g4dn.xlarge")).toBe("x86_64");
    expect(instanceTypeArch("m6i.large")).toBe("x86_64");
    expect(instanceTypeArch("m6i")).toBeUndefined();
  });

  it("parses durations", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172800);
    expect(parseDuration("an hour")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it("checks cron expressions field by field", () => {
    expect(cronProblem("0 */6 * * *")).toBeUndefined();
    expect(cronProblem("15 3 * jan-mar mon-fri")).toBeUndefined();
    expect(cronProblem("0 24 * * *")).toContain("hour");
    expect(cronProblem("61 * * * *")).toContain("minute");
    expect(cronProblem("* * * *")).toContain("5 fields");
    expect(cronProblem("*/x * * * *")).toContain("step");
  });

  it("suggests only plausible typos", () => {
    expect(nearest("hardwre", ["hardware", "components"])).toBe("hardware");
    expect(nearest("zzzzzz", ["hardware", "components"])).toBeUndefined();
  });
});
