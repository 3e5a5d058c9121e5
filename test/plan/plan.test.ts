import { describe, expect, it } from "vitest";
import { POOL_LABEL, TAG, TLS_POLICY } from "../../src/plan/aws.js";
import type {
  AutoScalingGroup,
  LaunchTemplate,
  Listener,
  SecurityGroup,
  TargetGroup,
} from "../../src/plan/aws-types.js";
import { APP_LABEL } from "../../src/plan/kubernetes.js";
import { NAME_LIMITS, resourceName } from "../../src/plan/names.js";
import { planApp } from "../../src/plan/plan.js";
import { instanceTypeAccelerator } from "../../src/spec/primitives.js";
import { baseSpec, exampleApp, resolved } from "../helpers/apps.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("the plan of webapp", async () => {
  const app = await exampleApp("webapp");
  const plan = planApp({ app, colour: "blue", version: SHA });

  it("gives each pool an Auto Scaling Group whose instance-type overrides are the spec's", () => {
    const groups = plan.aws.filter((r): r is AutoScalingGroup => r.kind === "auto-scaling-group");
    expect(groups.map((g) => g.properties.pool)).toEqual(["web", "worker"]);
    for (const g of groups) {
      const pool = app.hardware[g.properties.pool]!;
      expect(g.properties.instanceTypes).toEqual(pool.instanceTypes);
      expect(g.properties.onDemandBase).toBe(pool.spot!.onDemandBase);
      expect(g.properties.onDemandPercentAboveBase).toBe(pool.spot!.onDemandPercentAboveBase);
      expect(g.properties.desired).toBe(pool.desired);
      expect(g.tags[`kubernetes.io/cluster/${plan.cluster}`]).toBe("owned");
    }
  });

  it("tags every resource with the app, and colour-scoped ones with the colour", () => {
    for (const r of plan.aws.filter((r) => r.kind !== "route53-record")) {
      expect(r.tags[TAG.app], r.id).toBe("webapp");
      if (r.scope === "colour") expect(r.tags[TAG.colour], r.id).toBe("blue");
      else expect(r.tags[TAG.colour], r.id).toBeUndefined();
      expect(r.tags[TAG.createdBy], "created-by is set at creation, never planned").toBeUndefined();
    }
  });

  it("keeps the repository and IAM roles app-scoped, and the cluster colour-scoped", () => {
    const scopes = Object.fromEntries(plan.aws.map((r) => [r.id, r.scope]));
    expect(scopes["ecr-repository/app"]).toBe("app");
    expect(scopes["iam-role/node"]).toBe("app");
    expect(scopes["eks-cluster/main"]).toBe("colour");
    expect(scopes["load-balancer/main"]).toBe("colour");
  });

  it("puts every Kubernetes object under the app label", () => {
    for (const o of plan.kubernetes)
      expect(o.metadata.labels[APP_LABEL], `${o.kind}/${o.metadata.name}`).toBe("webapp");
  });

  it("places each component's pods on its pool by the label the launch template gives the kubelet", () => {
    const web = plan.kubernetes.find((o) => o.kind === "Deployment" && o.metadata.name === "web")!;
    const podSpec = (web.spec as { template: { spec: { nodeSelector: Record<string, string> } } }).template
      .spec;
    expect(podSpec.nodeSelector).toEqual({ [POOL_LABEL]: "web" });
    const lt = plan.aws.find((r) => r.id === "launch-template/web");
    expect(lt?.kind === "launch-template" && lt.properties.nodeLabels[POOL_LABEL]).toBe("web");
  });

  it("gives the worker pods the tolerations of their pool's taints", () => {
    const worker = plan.kubernetes.find((o) => o.kind === "Deployment" && o.metadata.name === "worker")!;
    const podSpec = (worker.spec as { template: { spec: { tolerations: unknown[] } } }).template.spec;
    expect(podSpec.tolerations).toEqual([
      { key: "workload", operator: "Equal", value: "batch", effect: "NoSchedule" },
    ]);
  });

  it("matches each NodePort Service to its target group's port", () => {
    const tg = plan.aws.find((r): r is TargetGroup => r.kind === "target-group")!;
    const svc = plan.kubernetes.find((o) => o.kind === "Service" && o.metadata.name === "web")!;
    const ports = (svc.spec as { type: string; ports: { nodePort: number }[] }).ports;
    expect((svc.spec as { type: string }).type).toBe("NodePort");
    expect(ports[0]!.nodePort).toBe(tg.properties.port);
  });

  it("never puts a secret's value in the plan", () => {
    const secret = plan.kubernetes.find((o) => o.kind === "Secret")!;
    expect(secret.data).toEqual({});
    expect(JSON.stringify(plan)).not.toMatch(/password"\s*:\s*"[^"]/i);
  });

  it("marks the DNS record to be applied only after verification", () => {
    const record = plan.aws.find((r) => r.kind === "route53-record");
    expect(record?.kind === "route53-record" && record.properties).toMatchObject({
      afterVerify: true,
      setIdentifier: "kc-webapp-blue",
      type: "CNAME",
      ttl: 60,
    });
  });

  it("gives HTTPS listeners a TLS 1.2+ policy (1.3 preferred), and plain HTTP ones none", () => {
    const listeners = plan.aws.filter((r): r is Listener => r.kind === "listener");
    expect(listeners.map((l) => [l.properties.protocol, l.properties.sslPolicy])).toEqual([
      ["HTTPS", TLS_POLICY],
      ["HTTP", undefined],
    ]);
    expect(TLS_POLICY).toMatch(/^ELBSecurityPolicy-TLS13-1-2-/);
  });

  it("admits an internet-facing load balancer's clients from anywhere", () => {
    const lb = plan.aws.find((r): r is SecurityGroup => r.id === "security-group/lb")!;
    expect(lb.properties.ingress.map((i) => i.source)).toEqual([
      { cidr: "0.0.0.0/0" },
      { cidr: "0.0.0.0/0" },
    ]);
  });

  it("orders resources after what they depend on", () => {
    const position = new Map<string, number>(plan.aws.map((r, i) => [r.id, i]));
    for (const r of plan.aws)
      for (const d of r.dependsOn)
        expect(position.get(d)!, `${r.id} after ${d}`).toBeLessThan(position.get(r.id)!);
  });
});

describe("determinism", () => {
  it("gives byte-identical output for the same input, and a different hash for another colour or version", async () => {
    const app = await exampleApp("webapp");
    const a = JSON.stringify(planApp({ app, colour: "blue", version: SHA }));
    const b = JSON.stringify(planApp({ app: await exampleApp("webapp"), colour: "blue", version: SHA }));
    expect(a).toBe(b);
    const green = planApp({ app, colour: "green", version: SHA });
    expect(green.hash).not.toBe(JSON.parse(a).hash);
    expect(green.cluster).toBe("kc-webapp-green");
    expect(planApp({ app, colour: "blue", version: "f".repeat(40) }).hash).not.toBe(JSON.parse(a).hash);
  });
});

describe("names", () => {
  const longName = "a-forty-character-application-name-abcde";

  it("stay within AWS limits for a 40-character app name", () => {
    expect(longName).toHaveLength(40);
    const app = resolved(baseSpec({ name: longName, image: { repository: longName } }));
    for (const colour of ["blue", "green"] as const) {
      const plan = planApp({ app, colour, version: SHA });
      const limit: Record<string, number> = {
        "iam-role": NAME_LIMITS.iamRole,
        "iam-instance-profile": NAME_LIMITS.instanceProfile,
        "eks-cluster": NAME_LIMITS.eksCluster,
        "security-group": NAME_LIMITS.securityGroup,
        "launch-template": NAME_LIMITS.launchTemplate,
        "auto-scaling-group": NAME_LIMITS.autoScalingGroup,
        "load-balancer": NAME_LIMITS.loadBalancer,
        "target-group": NAME_LIMITS.targetGroup,
        "ecr-repository": NAME_LIMITS.ecrRepository,
      };
      for (const r of plan.aws) {
        const max = limit[r.kind];
        if (max) expect(r.name.length, `${r.kind} ${r.name}`).toBeLessThanOrEqual(max);
        if (r.kind === "load-balancer" || r.kind === "target-group")
          expect(r.name).toMatch(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/);
      }
    }
  });

  it("shortened names stay distinct and keep the colour", () => {
    const blue = resourceName(longName, ["blue"], 32);
    const green = resourceName(longName, ["green"], 32);
    expect(blue).not.toBe(green);
    expect(blue.endsWith("-blue")).toBe(true);
    expect(resourceName(`${longName.slice(0, 39)}x`, ["blue"], 32)).not.toBe(blue);
    expect(resourceName("hello", ["blue"], 32)).toBe("kc-hello-blue");
  });

  it("derives node ports deterministically and without collisions", () => {
    const spec = baseSpec();
    spec.services = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        `svc-${i}`,
        { component: "web", port: 80 + i, targetPort: "http" },
      ]),
    );
    const app = resolved(spec);
    const ports = planApp({ app, colour: "blue", version: SHA })
      .kubernetes.filter((o) => o.kind === "Service")
      .map((o) => (o.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort);
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(30000);
  });
});

describe("an internal load balancer", async () => {
  const webapp = await exampleApp("webapp");
  const web = webapp.services.web!;
  const app = {
    ...webapp,
    services: { web: { ...web, loadBalancer: { ...web.loadBalancer!, scheme: "internal" as const } } },
  };

  it("admits its clients from the VPC's own ranges (found at run time), not a guessed 10.0.0.0/8", () => {
    const plan = planApp({ app, colour: "blue", version: SHA });
    const lb = plan.aws.find((r): r is SecurityGroup => r.id === "security-group/lb")!;
    expect(lb.properties.ingress.map((i) => i.source)).toEqual([{ vpc: true }, { vpc: true }]);
    expect(JSON.stringify(plan.aws)).not.toContain("10.0.0.0/8");
  });
});

describe("the metrics agent", async () => {
  const webapp = await exampleApp("webapp");

  it("finds the app's pods through the API as a ServiceAccount of its own, allowed to read pods and nothing else", () => {
    const plan = planApp({ app: webapp, colour: "blue", version: SHA });
    const of = (kind: string) =>
      plan.kubernetes.filter((o) => o.kind === kind && o.metadata.name === "metrics-agent");
    expect(of("ServiceAccount")).toHaveLength(1);
    expect(of("Role")[0]).toMatchObject({
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
    });
    expect(of("RoleBinding")[0]).toMatchObject({
      roleRef: { kind: "Role", name: "metrics-agent" },
      subjects: [{ kind: "ServiceAccount", name: "metrics-agent", namespace: "webapp" }],
    });
    const pod = (of("Deployment")[0] as unknown as { spec: { template: { spec: Record<string, unknown> } } })
      .spec.template.spec;
    expect(pod).toMatchObject({ serviceAccountName: "metrics-agent", automountServiceAccountToken: true });
    // the app's own ServiceAccount still mounts no token
    const own = plan.kubernetes.find((o) => o.kind === "ServiceAccount" && o.metadata.name === "webapp");
    expect(own).toMatchObject({ automountServiceAccountToken: false });
  });

  it("runs on a pool without taints, even when the first pool has some", () => {
    const { worker, web } = webapp.hardware;
    const resolvedApp = resolved(baseSpec({ name: "taints", hardware: { worker: worker!, web: web! } }));
    const plan = planApp({ app: resolvedApp, colour: "blue", version: SHA });
    const agent = plan.kubernetes.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "metrics-agent",
    ) as unknown as {
      spec: { template: { spec: { nodeSelector: Record<string, string> } } };
    };
    expect(agent.spec.template.spec.nodeSelector[POOL_LABEL]).toBe("web");
  });
});

describe("node images of accelerated pools", () => {
  const parameterOf = (pool: Record<string, unknown>) => {
    const spec = baseSpec();
    const app = resolved({ ...spec, hardware: { web: { min: 1, max: 2, ...pool } as never } });
    const lt = planApp({ app, colour: "blue", version: SHA }).aws.find((r) => r.kind === "launch-template");
    return (lt as LaunchTemplate).properties.amiParameter;
  };

  it("boots NVIDIA types on the nvidia variant, Inferentia and Trainium on neuron, others on standard", () => {
    expect(parameterOf({ instanceTypes: ["g5.xlarge", "p4d.24xlarge"] })).toMatch(
      /\/x86_64\/nvidia\/recommended\/image_id$/,
    );
    expect(parameterOf({ instanceTypes: ["g5g.xlarge"], arch: "arm64" })).toMatch(
      /\/arm64\/nvidia\/recommended\//,
    );
    expect(parameterOf({ instanceTypes: ["inf2.xlarge", "trn1.2xlarge"] })).toMatch(
      /\/x86_64\/neuron\/recommended\//,
    );
    expect(parameterOf({ instanceTypes: ["m6i.large", "c6i.large"] })).toMatch(
      /\/x86_64\/standard\/recommended\//,
    );
  });

  it("treats AMD GPU and plain families sharing a letter as plain", () => {
    expect(instanceTypeAccelerator("g4ad.xlarge")).toBeUndefined();
    expect(instanceTypeAccelerator("m6g.large")).toBeUndefined();
    expect(instanceTypeAccelerator("gr6.4xlarge")).toBe("nvidia");
    expect(instanceTypeAccelerator("trn1n.32xlarge")).toBe("neuron");
  });
});
