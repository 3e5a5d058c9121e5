import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";

// The spec's own verification (deploy.verify: HTTP checks through the colour's load balancer
// and a TypeScript hook) runs before DNS moves, and a failing check stops the run there.

let project: E2eProject;
let marker: string;

/** Gives the spec a deploy.verify block: one HTTP check and the hook. */
function withVerify(expectStatus: number, timeout: string) {
  return (spec: string) =>
    spec
      .replace(/ {2}deploy: \{ verify: .*\n/, "")
      .replace(
        "  dns: {",
        `  deploy: { verify: { http: [{ service: "web", path: "/healthz", expectStatus: ${expectStatus} }], hook: "./${project.app}.verify.ts", timeout: "${timeout}" } },\n  dns: {`,
      );
}

const dnsWeight = async () => (await weightedRecords(project.sbx, `${project.app}.example.com`))[0]?.Weight;

beforeAll(async () => {
  project = await e2eProject("verify");
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
  project.writeSpec(withVerify(200, "60s"));
}, 120_000);

afterAll(() => project?.cleanup(), 180_000);

describe("deploy.verify: the spec's HTTP checks and verify hook", () => {
  it("run against the new colour before DNS points at it", async () => {
    // when the app is created
    const created = await project.kubecontrol(["create", project.app, "--yes"]);

    // then its checks passed, the hook ran with the colour's context, and DNS was moved after
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/verify-checks.*2 check\(s\) passed/);
    const ran = JSON.parse(readFileSync(marker, "utf8")) as Record<string, unknown>;
    expect(ran).toMatchObject({ app: project.app, colour: "blue", status: 200 });
    expect(ran.version).toMatch(/^[0-9a-f]{40}$/);
    // under the app's own name, though DNS did not point there yet: the hook's fetch connects to
    // the colour's load balancer
    expect(ran.baseUrl).toBe(`http://${project.app}.example.com`);
    expect(await dnsWeight()).toBe(100);
  }, 240_000);

  it("fail the run with exit 7 when a check does not pass, naming it", async () => {
    // given a check that cannot pass (the colour answers 200)
    project.writeSpec(withVerify(418, "2s"));

    // when create runs again
    const again = await project.kubecontrol(["create", project.app, "--yes"]);

    // then it fails verification, naming the check and the status seen, and DNS is as it was
    expect(again.status, again.stderr).toBe(7);
    expect(again.stderr).toContain(
      `verification failed: GET http://${project.app}.example.com/healthz (web, HTTP:80 of kc-${project.app}-blue): answered 200, expected 418: "ok: GET /healthz served by`,
    );
    expect(await dnsWeight()).toBe(100);
    const history = JSON.parse(
      (await project.kubecontrol(["history", project.app, "-o", "json"])).stdout,
    ) as {
      runs: { result: string; error: string }[];
    };
    expect(history.runs[0]).toMatchObject({ result: "failed" });
    expect(history.runs[0]?.error).toMatch(/^VERIFY_FAILED: /);
  }, 240_000);
});
