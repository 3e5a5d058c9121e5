import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAws } from "../../src/aws/create-aws.js";
import { runSteps } from "../../src/engine/runner.js";
import { teardownSteps } from "../../src/engine/steps/aws/teardown.js";
import { planApp } from "../../src/plan/plan.js";
import { loadApp } from "../../src/spec/loader.js";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "../helpers/apps.js";
import { helloProject, type TestProject } from "../helpers/project.js";
import { type TestSandbox, testAccessKeyId, testSandbox } from "../helpers/sandbox.js";

// The spec's own verification (deploy.verify: HTTP checks through the colour's load balancer
// and a TypeScript hook) runs before DNS moves, and a failing check stops the run there.

let sbx: TestSandbox;
let project: TestProject;
let env: NodeJS.ProcessEnv;
let marker: string;
let specFile: string;

function kubecontrol(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "bin/kubecontrol"), ...args], {
    cwd: project.root,
    env,
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The app's spec with a deploy.verify block. */
function writeSpec(expectStatus: number, timeout: string): void {
  const base = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8")
    .replace('name: "hello"', `name: "${project.app}"`)
    .replace('repository: "hello"', `repository: "${project.app}"`)
    .replace('record: "hello.example.com"', `record: "${project.app}.example.com"`);
  const verify = `  deploy: { verify: { http: [{ service: "web", path: "/healthz", expectStatus: ${expectStatus} }], hook: "./${project.app}.verify.ts", timeout: "${timeout}" } },\n`;
  writeFileSync(specFile, base.replace("  dns: {", `${verify}  dns: {`));
}

async function dnsWeight(): Promise<number | undefined> {
  const zones = (await awsCli(sbx, ["route53", "list-hosted-zones"])) as {
    HostedZones: { Id: string; Name: string }[];
  };
  const zone = zones.HostedZones.find((z) => z.Name === "example.com.")!;
  const sets = (await awsCli(sbx, ["route53", "list-resource-record-sets", "--hosted-zone-id", zone.Id])) as {
    ResourceRecordSets: { Name: string; Weight?: number }[];
  };
  return sets.ResourceRecordSets.find((s) => s.Name === `${project.app}.example.com.`)?.Weight;
}

beforeAll(async () => {
  sbx = await testSandbox();
  project = helloProject("verify");
  specFile = path.join(project.root, "apps", `${project.app}.ts`);
  marker = path.join(project.root, "hook-ran.json");
  // The hook records what it was given and checks the colour through its load balancer.
  writeFileSync(
    path.join(project.root, "apps", `${project.app}.verify.ts`),
    `import { writeFileSync } from "node:fs";
import type { VerifyContext } from "kubecontrol";
export default async function verify(c: VerifyContext): Promise<void> {
  const res = await c.fetch(\`\${c.baseUrl}/healthz\`, { signal: c.signal });
  writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ app: c.app, colour: c.colour, version: c.version, baseUrl: c.baseUrl, status: res.status }));
  if (res.status !== 200) throw new Error(\`/healthz answered \${res.status}\`);
}
`,
  );
  writeSpec(200, "60s");
  env = {
    ...process.env,
    ...sbx.env,
    AWS_ACCESS_KEY_ID: testAccessKeyId(),
    NO_COLOR: "1",
    KUBECONTROL_STATE_DIR: path.join(project.root, ".state"),
  };
}, 120_000);

afterAll(async () => {
  if (project && existsSync(specFile)) {
    const { app } = await loadApp(path.join(project.root, "apps"), project.app);
    const aws = createAws({
      region: sbx.region,
      endpoint: sbx.endpoint,
      credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
    });
    await runSteps(
      teardownSteps(planApp({ app, colour: "blue", version: "cleanup" }), aws, "test-cleanup", {
        destroy: true,
        pace: { pollMs: 50, maxPollMs: 500 },
      }),
    );
  }
  project?.remove();
}, 180_000);

describe("deploy.verify: the spec's HTTP checks and verify hook", () => {
  it("run against the new colour before DNS points at it", async () => {
    // when the app is created
    const created = kubecontrol(["create", project.app, "--yes"]);

    // then its checks passed, the hook ran with the colour's context, and DNS was moved after
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/verifyChecks.*2 check\(s\) passed/);
    const ran = JSON.parse(readFileSync(marker, "utf8")) as Record<string, unknown>;
    expect(ran).toMatchObject({ app: project.app, colour: "blue", status: 200 });
    expect(ran.version).toMatch(/^[0-9a-f]{40}$/);
    const lbs = (await awsCli(sbx, [
      "elbv2",
      "describe-load-balancers",
      "--names",
      `kc-${project.app}-blue`,
    ])) as {
      LoadBalancers: { DNSName: string }[];
    };
    expect(ran.baseUrl).toBe(`http://${lbs.LoadBalancers[0]!.DNSName}`);
    expect(await dnsWeight()).toBe(100);
  }, 240_000);

  it("fail the run with exit 7 when a check does not pass, naming it", async () => {
    // given a check that cannot pass (the colour answers 200)
    writeSpec(418, "2s");

    // when create runs again
    const again = kubecontrol(["create", project.app, "--yes"]);

    // then it fails verification, naming the check and the status seen, and DNS is as it was
    expect(again.status, again.stderr).toBe(7);
    expect(again.stderr).toContain("verification failed: GET /healthz on web answered 200, expected 418");
    expect(await dnsWeight()).toBe(100);
    const history = JSON.parse(kubecontrol(["history", project.app, "-o", "json"]).stdout) as {
      runs: { result: string; error: string }[];
    };
    expect(history.runs[0]).toMatchObject({ result: "failed" });
    expect(history.runs[0]?.error).toMatch(/^VERIFY_FAILED: /);
  }, 240_000);
});
