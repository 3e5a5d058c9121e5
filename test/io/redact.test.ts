import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/io/logger.js";
import { redact } from "../../src/io/redact.js";

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
  ])("removes the secret from %s", (text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain("[REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    const text = "cluster kc-hello-blue is ACTIVE (arn:aws:eks:us-east-1:123456789012:cluster/kc-hello-blue)";
    expect(redact(text)).toBe(text);
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
