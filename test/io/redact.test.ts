import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/io/logger.js";
import { redact, redactValue, registerSecret } from "../../src/io/redact.js";

describe("redaction", () => {
  it.each([
    ["token k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u", "k8s-aws-v1.aHR0"],
    [
      "https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Signature=abcdef0123456789&X-Amz-Date=1",
      "abcdef0123456789",
    ],
    ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"],
    ["Authorization: Basic QVdTOnNlY3JldA==", "QVdTOnNlY3JldA=="],
    ["postgres://deployer:hunter2@db.internal/kubecontrol", "hunter2"],
    ["postgres://:hunter2@db.internal/kubecontrol", "hunter2"],
    ["postgresql://deployer@db.internal/kubecontrol?sslmode=require&password=hunter2", "hunter2"],
    ['{"password":"correct horse battery staple"}', "correct horse"],
    // a token given as the URL's user, GitHub's own form
    ["fatal: could not read from https://ghp_0123456789abcdefABCDEF@github.com/org/repo.git", "ghp_0123"],
    ["cloning https://x-access-token:ghs_SECRET0123456789@github.com/org/repo", "ghs_SECRET"],
    // passwords holding "/", "@" or a space (a mistyped URL: not percent-encoded)
    ["historyStore: postgres://kc:pa/ss@db/kc is refused", "pa/ss"],
    ["postgres://kc:p@ss@db.internal:5432/kc", "p@ss"],
    ["postgres://kc:pa ss@db/kc", "pa ss"],
    // JSON-escaped quoted values, inside another JSON string
    ['{"error":"{\\"password\\":\\"s3cr3t-value\\"}"}', "s3cr3t-value"],
    ['"SecretString": "{\\"db\\": \\"hunter2hunter2\\"}"', "hunter2hunter2"],
    ["SecretString=opensesame123", "opensesame123"],
    ["api_key=AbCdEf0123456789", "AbCdEf0123456789"],
    ["X-Api-Key: AbCdEf0123456789 and apikey: ZyXw98765", "ZyXw98765"],
    ["the request sent Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "eyJhbGci"],
    ["PGPASSWORD=hunter2hunter2 psql -h db", "hunter2hunter2"],
    ["export AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEAAaCXVzLWVhc3QtMSJHMEUCIQ", "IQoJb3JpZ2lu"],
    ["docker login -p QVdTOmV5SndZWGxzYjJGa0lqb2lVa0ZE", "QVdTOmV5"],
  ])("removes the secret from %s", (text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain("[REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    for (const text of [
      "cluster kc-hello-blue is ACTIVE (arn:aws:eks:us-east-1:123456789012:cluster/kc-hello-blue)",
      "GET https://webapp.example.com/healthz (web, HTTPS:443 of kc-webapp-blue): answered 503",
      "see https://example.com/@someone/repo and https://example.com/?email=a@b.example",
      "this run no longer holds the lease on hello (token 5): bob@deploy-1 holds it now (token 6)",
      "secret webapp/db has no key password (envFromSecrets DB_PASSWORD)",
    ])
      expect(redact(text)).toBe(text);
  });

  it("removes every registered secret, raw, base64-, URL- and JSON-encoded", () => {
    const secret = 'canary/"pa ss"@42';
    registerSecret(secret);
    for (const form of [
      secret,
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
      Buffer.from(secret).toString("base64"),
      Buffer.from(secret).toString("base64url"),
    ])
      expect(redact(`before ${form} after`)).toBe("before [REDACTED] after");
  });

  it("scrubs structured values: strings, and values of secret-named keys", () => {
    expect(
      redactValue({ type: "log", message: "url https://u:pw123456@h/x", details: { token: "t", n: 1 } }),
    ).toEqual({ type: "log", message: "url https://[REDACTED]@h/x", details: { token: "[REDACTED]", n: 1 } });
  });

  it("the logger redacts by key and scrubs messages", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const log = await createLogger("info", out);
    log.info(
      { request: { token: "abc123", region: "us-east-1" }, password: "pw-1" },
      "got k8s-aws-v1.c2VjcmV0dG9rZW4",
    );
    log.flush();
    await new Promise((r) => setTimeout(r, 20));
    const line = JSON.parse(text.trim());
    expect(line.request).toEqual({ token: "[REDACTED]", region: "us-east-1" });
    expect(line.password).toBe("[REDACTED]");
    expect(line.msg).toBe("got k8s-aws-v1.[REDACTED]");
  });
});
