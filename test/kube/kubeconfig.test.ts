import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { namesFor } from "../../src/plan/names.js";
import { repoRoot } from "../helpers/apps.js";
import { kubecontrol } from "../helpers/cli.js";
import { createTestCluster, type TestCluster } from "../helpers/kube-cluster.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";

const run = promisify(execFile);
let sbx: TestSandbox;
let cluster: TestCluster;
let appsDir: string;
let home: string;
const app = `kc${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  sbx = await testSandbox();
  cluster = await createTestCluster(sbx, [], { name: namesFor(app, "blue").cluster });
  home = mkdtempSync(path.join(os.tmpdir(), "kc-kubeconfig-"));
  appsDir = path.join(home, "apps");
  execFileSync("mkdir", ["-p", appsDir]);
  writeFileSync(
    path.join(appsDir, `${app}.ts`),
    `export default {
  name: "${app}", owner: "team-test", region: "${sbx.region}",
  hardware: { general: { instanceTypes: ["t3.medium"], min: 1, max: 2 } },
  image: { repository: "${app}" },
  components: { web: { pool: "general", replicas: 1, containers: [{ name: "web", image: "app" }] } },
};
`,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** The CLI as a user runs it against the sandbox, with a HOME of its own. */
function cli(args: string[]) {
  return kubecontrol(["--apps", appsDir, ...args], {
    env: {
      ...sbx.env,
      AWS_ACCESS_KEY_ID: cluster.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: cluster.credentials.secretAccessKey,
      HOME: home,
      KUBECONFIG: "",
    },
  });
}

describe("kubecontrol kubeconfig", () => {
  it("prints a kubeconfig for the app's cluster that holds no token, and writes nothing", () => {
    const result = cli(["kubeconfig", app]);
    expect(result.stderr, result.stderr).not.toMatch(/^error:/m);
    expect(result.status).toBe(0);
    const doc = parse(result.stdout);
    const name = namesFor(app, "blue").cluster;
    expect(doc["current-context"]).toBe(name);
    expect(doc.clusters[0].cluster.server).toBe(cluster.access.cluster.endpoint);
    expect(doc.users[0].user.exec).toMatchObject({
      command: "aws",
      args: ["--region", sbx.region, "eks", "get-token", "--cluster-name", name, "--output", "json"],
      env: [{ name: "AWS_ENDPOINT_URL", value: sbx.endpoint }],
    });
    expect(result.stdout).not.toContain("k8s-aws-v1.");
    expect(existsSync(path.join(home, ".kube", "config"))).toBe(false);
  });

  it("merges into an existing kubeconfig with --write, and kubectl reaches the cluster through it", async () => {
    const file = path.join(home, "merged.kubeconfig");
    writeFileSync(
      file,
      "apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: https://127.0.0.1:1}}]\n" +
        "users: [{name: other, user: {}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n",
    );
    const result = cli(["kubeconfig", app, "--write", "--file", file]);
    expect(result.status, result.stderr).toBe(0);
    const doc = parse(readFileSync(file, "utf8"));
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual([
      "other",
      namesFor(app, "blue").cluster,
    ]);
    expect(doc["current-context"]).toBe(namesFor(app, "blue").cluster);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const binDir = execFileSync(path.join(repoRoot, "sandbox/build-k8s.sh"), ["--print-dir"], {
      encoding: "utf8",
    }).trim();
    const { stdout } = await run(
      `${binDir}/kubectl`,
      ["--kubeconfig", file, "get", "namespaces", "-o", "name"],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          AWS_ACCESS_KEY_ID: cluster.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: cluster.credentials.secretAccessKey,
          AWS_CONFIG_FILE: "/dev/null",
        },
      },
    );
    expect(stdout).toContain("namespace/kube-system");
  });
});
