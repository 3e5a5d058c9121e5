import { describe, expect, it } from "vitest";
import { DIGEST_KEY_FIELD, secretRefs, withEnvSecret } from "../../src/kube/env-secret.js";
import {
  ENV_SECRET_HASH_ANNOTATION,
  type KubeObject,
  progressDeadlineOf,
} from "../../src/plan/kubernetes.js";
import { planApp } from "../../src/plan/plan.js";
import { baseSpec, resolved } from "../helpers/apps.js";

const app = resolved(
  baseSpec({
    components: {
      web: {
        pool: "web",
        replicas: 2,
        containers: [
          {
            name: "web",
            image: "app",
            envFromSecrets: { DB_PASSWORD: "demo/db#password", TOKEN: "demo/api#token" },
          },
        ],
      },
      worker: {
        pool: "web",
        replicas: 1,
        containers: [{ name: "worker", image: "app", envFromSecrets: { TOKEN: "demo/api#token" } }],
      },
      plain: { pool: "web", replicas: 1, containers: [{ name: "plain", image: "app" }] },
    },
    services: {},
  }),
);
const objects = planApp({ app, colour: "blue", version: "v1", image: "repo@sha256:abc" }).kubernetes;
const values = new Map([
  ["demo/db#password", "hunter2"],
  ["demo/api#token", "t0ken"],
]);

const podDigest = (objs: KubeObject[], name: string) =>
  (
    objs.find((o) => o.kind === "Deployment" && o.metadata.name === name)!.spec as {
      template: { metadata: { annotations?: Record<string, string> } };
    }
  ).template.metadata.annotations?.[ENV_SECRET_HASH_ANNOTATION];

describe("the env Secret at deploy time", () => {
  it("lists each reference once with who reads it", () => {
    expect(secretRefs(app)).toEqual([
      {
        ref: "demo/api#token",
        secret: "demo/api",
        key: "token",
        usedBy: ["web.web TOKEN", "worker.worker TOKEN"],
      },
      { ref: "demo/db#password", secret: "demo/db", key: "password", usedBy: ["web.web DB_PASSWORD"] },
    ]);
  });

  it("fills the planned Secret with the values and the digest key, leaving the plan's objects as they were", () => {
    const filled = withEnvSecret(objects, app, values, "k1");
    const secret = filled.find((o) => o.kind === "Secret")!;
    expect(secret.metadata.name).toBe("demo-env");
    const data = secret.data as Record<string, string>;
    const decoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
    expect(decoded).toEqual({
      demo_api_token: "t0ken",
      demo_db_password: "hunter2",
      [DIGEST_KEY_FIELD]: "k1",
    });
    expect(secret.metadata.annotations?.[ENV_SECRET_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    // the plan itself still holds no value
    expect(objects.find((o) => o.kind === "Secret")!.data).toEqual({});
    expect(JSON.stringify(objects)).not.toContain("hunter2");
  });

  it("puts a digest on the pods that read a value, which changes with a value they read and nothing else", () => {
    const first = withEnvSecret(objects, app, values, "k1");
    expect(podDigest(first, "web")).toMatch(/^[0-9a-f]{16}$/);
    expect(podDigest(first, "worker")).toMatch(/^[0-9a-f]{16}$/);
    expect(podDigest(first, "plain")).toBeUndefined();
    // the same values: the same digests (a re-run changes nothing)
    const again = withEnvSecret(objects, app, new Map(values), "k1");
    expect(podDigest(again, "web")).toBe(podDigest(first, "web"));
    // a new password: web rolls, worker (which reads only the token) does not
    const changed = withEnvSecret(objects, app, new Map([...values, ["demo/db#password", "hunter3"]]), "k1");
    expect(podDigest(changed, "web")).not.toBe(podDigest(first, "web"));
    expect(podDigest(changed, "worker")).toBe(podDigest(first, "worker"));
    // the digest is keyed: without the key it cannot be recomputed from a guess
    const otherKey = withEnvSecret(objects, app, values, "k2");
    expect(podDigest(otherKey, "web")).not.toBe(podDigest(first, "web"));
  });

  it("gives the Deployments the spec's verification timeout as their progress deadline", () => {
    expect(progressDeadlineOf(app)).toBe(600);
    const quick = resolved(baseSpec({ deploy: { verify: { timeout: "20s" } } }));
    const d = planApp({ app: quick, colour: "blue", version: "v1", image: "i" }).kubernetes.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "web",
    )!;
    expect((d.spec as { progressDeadlineSeconds: number }).progressDeadlineSeconds).toBe(20);
  });
});
