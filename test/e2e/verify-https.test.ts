import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import type { HistoryRun } from "../helpers/e2e-runs.js";

// HTTPS checks reach the colour as clients will: TLS's server name and the Host header are the
// app's own record, the certificate is verified. A certificate that cannot pass (it names another
// domain, or its issuer is not trusted) fails verification at once, saying why, instead of
// waiting out deploy.verify.timeout.

let p: E2eProject;

beforeAll(async () => {
  p = await e2eProject("tls", (spec) =>
    spec
      .replace(
        'listeners: [{ port: 80, protocol: "HTTP" }]',
        // The sandbox's certificate for webapp.example.com: it does not cover this app's record.
        'listeners: [{ port: 443, protocol: "HTTPS", certificate: "webapp.example.com" }, { port: 80, protocol: "HTTP" }]',
      )
      .replace(
        "  dns: {",
        '  deploy: { verify: { http: [{ service: "web", path: "/healthz" }], timeout: "5m" } },\n  dns: {',
      ),
  );
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

const lastRun = async () =>
  (JSON.parse((await p.kubecontrol(["history", p.app, "-o", "json"])).stdout) as { runs: HistoryRun[] })
    .runs[0];

describe("HTTPS verification through the colour's load balancer", () => {
  it("fails at once when the certificate does not cover the app's name, saying so", async () => {
    // when the app is created with an HTTPS listener whose certificate names another domain
    const created = await p.kubecontrol(["create", p.app, "--yes"]);

    // then verification fails (exit 7) with the TLS cause, long before its 5m timeout
    expect(created.status, created.stderr).toBe(7);
    expect(created.stderr).toContain(
      `verification failed: GET https://${p.app}.example.com/healthz (web, HTTPS:443 of kc-${p.app}-blue): TLS: the certificate does not cover ${p.app}.example.com`,
    );
    expect(created.stderr).toContain("waiting cannot mend this");
    expect(created.finishedAt - created.startedAt).toBeLessThan(120_000);
    // and DNS was not touched
    expect(await weightedRecords(p.sbx, `${p.app}.example.com`)).toEqual([]);
    // and history keeps the cause
    const run = await lastRun();
    expect(run).toMatchObject({ command: "create", result: "failed" });
    expect(run?.error).toContain(`TLS: the certificate does not cover ${p.app}.example.com`);
  }, 240_000);

  it("fails at once when the certificate's issuer is not trusted", async () => {
    // given a deployer whose Node does not trust the sandbox's CA (the image is in ECR already)
    const created = await p.kubecontrol(["create", p.app, "--yes"], { env: { NODE_EXTRA_CA_CERTS: "" } });

    // then verification fails at once, naming the untrusted issuer and how to trust it
    expect(created.status, created.stderr).toBe(7);
    expect(created.stderr).toMatch(
      /TLS: the certificate's issuer is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\); trust its CA/,
    );
    expect(created.stderr).toContain("NODE_EXTRA_CA_CERTS");
    expect(await weightedRecords(p.sbx, `${p.app}.example.com`)).toEqual([]);
  }, 240_000);
});
