import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type KubeResource } from "../../src/kube/client.js";
import { kubeConfigFromFile } from "../../src/kube/cluster-access.js";
import { DIGEST_KEY_FIELD } from "../../src/kube/env-secret.js";
import { ENV_SECRET_HASH_ANNOTATION, secretKeyFor } from "../../src/plan/kubernetes.js";
import { planApp } from "../../src/plan/plan.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { loadApp } from "../../src/spec/loader.js";
import { awsCli } from "../aws/stack-fixture.js";
import { type Cli, type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { callCounts, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: envFromSecrets read from Secrets Manager at deploy time into the app's Secret
// (`<app>-env`), checked with kubectl's view of the cluster (the sandbox's admin kubeconfig), the
// AWS CLI and the proxy; and no value anywhere kubecontrol writes: its output (--json events and
// plain lines), the history store, the dry run, Kubernetes events.

let p: E2eProject;
let cluster: string;
const value = (what: string) => `${what}-${randomBytes(12).toString("hex")}`;
const values = { password: value("pw"), token: value("tok"), changed: value("pw2") };
let secretNames: { db: string; api: string };
const outputs: { what: string; text: string }[] = [];

function keep(what: string, r: Cli): Cli {
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  return r;
}

const envSpec = (app: string, extra = "") =>
  `          envFromSecrets: { DB_PASSWORD: "${app}/db#password", API_TOKEN: "${app}/api#token"${extra} },\n`;

beforeAll(async () => {
  p = await e2eProject("envsec", (spec, app) =>
    spec.replace("          resources: {", `${envSpec(app)}          resources: {`),
  );
  secretNames = { db: `${p.app}/db`, api: `${p.app}/api` };
  await awsCli(p.sbx, [
    "secretsmanager",
    "create-secret",
    "--name",
    secretNames.db,
    "--secret-string",
    JSON.stringify({ user: "app", password: values.password }),
  ]);
  await awsCli(p.sbx, [
    "secretsmanager",
    "create-secret",
    "--name",
    secretNames.api,
    "--secret-string",
    JSON.stringify({ token: values.token }),
  ]);
  const { app } = await loadApp(path.join(p.root, "apps"), p.app);
  cluster = planApp({ app, colour: "blue", version: "x" }).cluster;
}, 180_000);

afterAll(async () => {
  for (const name of Object.values(secretNames ?? {}))
    await awsCli(p.sbx, [
      "secretsmanager",
      "delete-secret",
      "--secret-id",
      name,
      "--force-delete-without-recovery",
    ]).catch(() => {});
  await p?.cleanup();
}, 180_000);

function adminClient(): KubeClient {
  return new KubeClient(kubeConfigFromFile(adminKubeconfigPath(path.join(p.sbx.dir, "k8s"), cluster)));
}

/** Every file of the project's state directory (the history store and its WAL among them). */
function stateFiles(dir = path.join(p.root, ".state")): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

/** Where a secret value (or its base64) shows up in what kubecontrol printed or stored. */
function leaks(secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString("base64")];
  const found = outputs.filter((o) => forms.some((f) => o.text.includes(f))).map((o) => o.what);
  for (const file of stateFiles()) {
    const bytes = readFileSync(file);
    if (forms.some((f) => bytes.includes(f))) found.push(file);
  }
  return found;
}

const decode = (b64: string | undefined) => Buffer.from(b64 ?? "", "base64").toString("utf8");

describe("kubecontrol create with envFromSecrets", () => {
  it("fails preflight naming a missing secret and a missing key, changing nothing", async () => {
    // given a spec that also reads a key the secret lacks and a secret that does not exist
    p.writeSpec((s) =>
      s.replace(
        envSpec(p.app),
        envSpec(p.app, `, NO_KEY: "${p.app}/db#nokey", NO_SECRET: "${p.app}/absent#token"`),
      ),
    );
    try {
      // when create runs under an access key of its own
      const key = testAccessKeyId();
      const t0 = Date.now();
      const done = keep(
        "preflight failure",
        await p.kubecontrol(["create", p.app, "--yes"], { accessKeyId: key }),
      );
      console.log(`create with missing secret and key: exit ${done.status} after ${Date.now() - t0} ms`);
      if (process.env.KC_TEST_SHOW_OUTPUT) console.log(done.stderr);

      // then preflight fails (exit 5), naming the secret and the key
      expect(done.status, done.stderr).toBe(5);
      expect(done.stderr).toContain(`secret ${p.app}/absent does not exist`);
      expect(done.stderr).toContain(`secret ${p.app}/db has no JSON key nokey`);
      expect(done.stderr).not.toContain("ensure-eks-cluster");
      // and the proxy saw no mutating call from it, and there is no cluster
      const counts = await callCounts(p.sbx, key);
      const mutating = Object.keys(counts.calls).filter(
        (op) => !/^(Describe|List|Get|BatchGet)/.test(op.split(":")[1] ?? ""),
      );
      expect(mutating, JSON.stringify(counts.calls)).toEqual([]);
      expect(Object.keys(counts.calls)).toContain("secretsmanager:GetSecretValue");
      const clusters = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
      expect(clusters.clusters).not.toContain(cluster);
    } finally {
      p.writeSpec((s) =>
        s.replace(
          envSpec(p.app, `, NO_KEY: "${p.app}/db#nokey", NO_SECRET: "${p.app}/absent#token"`),
          envSpec(p.app),
        ),
      );
    }
  }, 120_000);

  it("writes the app's Secret from Secrets Manager, which the pods read, and no value anywhere else", async () => {
    // when create runs (--json: every event on stdout)
    const t0 = Date.now();
    const done = keep("create --json", await p.kubecontrol(["--json", "create", p.app, "--yes"]));
    console.log(`create with envFromSecrets: exit ${done.status} after ${Date.now() - t0} ms`);
    expect(done.status, done.stderr).toBe(0);

    // then the Secret holds Secrets Manager's values under the keys the pods read
    const kube = adminClient();
    const secret = (await kube.request(
      "GET",
      `/api/v1/namespaces/${p.app}/secrets/${p.app}-env`,
    )) as KubeResource & {
      data: Record<string, string>;
    };
    expect(decode(secret.data[secretKeyFor(`${secretNames.db}#password`)])).toBe(values.password);
    expect(decode(secret.data[secretKeyFor(`${secretNames.api}#token`)])).toBe(values.token);
    // (and the key of the digests on the pods, so those say "changed" and nothing more)
    expect(Object.keys(secret.data).sort()).toEqual(
      [
        secretKeyFor(`${secretNames.db}#password`),
        secretKeyFor(`${secretNames.api}#token`),
        DIGEST_KEY_FIELD,
      ].sort(),
    );
    expect(secret.metadata?.annotations?.[ENV_SECRET_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);

    // and the pods reference it, with the digest of what they read on them
    const pods = await kube.request<{ items: KubeResource[] }>("GET", `/api/v1/namespaces/${p.app}/pods`, {
      query: { labelSelector: "kubecontrol.io/component=web" },
    });
    expect(pods.items.length).toBeGreaterThanOrEqual(2);
    for (const pod of pods.items) {
      const env = (pod.spec as { containers: { env?: { name: string; valueFrom?: unknown }[] }[] })
        .containers[0]!.env;
      expect(env).toContainEqual({
        name: "DB_PASSWORD",
        valueFrom: {
          secretKeyRef: { name: `${p.app}-env`, key: secretKeyFor(`${secretNames.db}#password`) },
        },
      });
      expect(pod.metadata?.annotations?.[ENV_SECRET_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    }

    // and no value is in the output, the events, history or the Kubernetes events
    const history = keep("history", await p.kubecontrol(["history", p.app, "-o", "json"]));
    expect(history.stdout).toContain('"succeeded"');
    const events = await kube.request<{ items: unknown[] }>("GET", `/api/v1/namespaces/${p.app}/events`);
    outputs.push({ what: "kubernetes events", text: JSON.stringify(events.items) });
    expect(stateFiles().some((f) => f.endsWith(".db"))).toBe(true);
    expect(leaks(values.password)).toEqual([]);
    expect(leaks(values.token)).toEqual([]);
  }, 180_000);

  it("rolls the pods when a value changes; the dry run says so without the value", async () => {
    // given a changed password in Secrets Manager
    const kube = adminClient();
    const before = await kube.request<
      KubeResource & { spec: { template: { metadata: { annotations: Record<string, string> } } } }
    >("GET", `/apis/apps/v1/namespaces/${p.app}/deployments/web`);
    const oldDigest = before.spec.template.metadata.annotations[ENV_SECRET_HASH_ANNOTATION];
    await awsCli(p.sbx, [
      "secretsmanager",
      "put-secret-value",
      "--secret-id",
      secretNames.db,
      "--secret-string",
      JSON.stringify({ user: "app", password: values.changed }),
    ]);

    // when a dry run looks, then it would change the Secret and the Deployment, and names no value
    const dry = keep("dry run", await p.kubecontrol(["create", p.app, "--dry-run"]));
    if (process.env.KC_TEST_SHOW_OUTPUT) console.log(dry.stderr);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(
      new RegExp(`would change\\s+ensure-kube-objects: .*change secret/${p.app}/${p.app}-env`),
    );
    expect(dry.stderr).toContain(`change deployment/${p.app}/web`);

    // when create runs again, then the Secret has the new value and the pods rolled
    const t0 = Date.now();
    const again = keep("create again", await p.kubecontrol(["create", p.app, "--yes"]));
    console.log(`create after a changed value: exit ${again.status} after ${Date.now() - t0} ms`);
    if (process.env.KC_TEST_SHOW_OUTPUT) console.log(again.stderr);
    expect(again.status, again.stderr).toBe(0);
    const secret = (await kube.request(
      "GET",
      `/api/v1/namespaces/${p.app}/secrets/${p.app}-env`,
    )) as KubeResource & {
      data: Record<string, string>;
    };
    expect(decode(secret.data[secretKeyFor(`${secretNames.db}#password`)])).toBe(values.changed);
    const after = await kube.request<
      KubeResource & { spec: { template: { metadata: { annotations: Record<string, string> } } } }
    >("GET", `/apis/apps/v1/namespaces/${p.app}/deployments/web`);
    const newDigest = after.spec.template.metadata.annotations[ENV_SECRET_HASH_ANNOTATION];
    expect(newDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(newDigest).not.toBe(oldDigest);
    const pods = await kube.request<{ items: KubeResource[] }>("GET", `/api/v1/namespaces/${p.app}/pods`, {
      query: { labelSelector: "kubecontrol.io/component=web" },
    });
    const current = pods.items.filter(
      (pod) =>
        !pod.metadata?.deletionTimestamp &&
        pod.metadata?.annotations?.[ENV_SECRET_HASH_ANNOTATION] === newDigest,
    );
    expect(current.length).toBeGreaterThanOrEqual(2);

    // and neither value is anywhere kubecontrol wrote
    expect(leaks(values.password)).toEqual([]);
    expect(leaks(values.changed)).toEqual([]);
  }, 180_000);

  it("tears the colour down", async () => {
    const done = await p.kubecontrol(["teardown", p.app, "--colour", "blue", "--force", "--yes"]);
    expect(done.status, done.stderr).toBe(0);
  }, 120_000);
});
