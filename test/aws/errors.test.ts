import { beforeAll, describe, expect, it } from "vitest";
import { KubecontrolError } from "../../src/errors.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { testAws } from "./stack-fixture.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

describe("AWS errors", () => {
  it("fail at once, without retries, naming the call, the resource and the AWS code", async () => {
    // Given a call AWS refuses for a reason retrying cannot fix
    const t = testAws(sbx);

    // When it is made
    const err = await t.aws.ec2
      .deleteSecurityGroup("sg-0123456789abcdef0", "security group kc-nothing-blue-lb")
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    // Then it is a coded error with the AWS code, and the proxy saw one call
    expect(err).toBeInstanceOf(KubecontrolError);
    const coded = err as KubecontrolError;
    expect(coded.code).toBe("AWS");
    expect(coded.details).toMatchObject({
      awsCode: "InvalidGroup.NotFound",
      operation: "DeleteSecurityGroup",
    });
    expect(coded.message).toContain(
      "ec2:DeleteSecurityGroup on security group kc-nothing-blue-lb failed: InvalidGroup.NotFound",
    );
    expect((await t.counts()).calls).toEqual({ "ec2:DeleteSecurityGroup": 1 });
  });

  it("throttling is retried by the client until it passes", async () => {
    const t = testAws(sbx);
    await fetch(`${sbx.proxyUrl}/_proxy/faults/append`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        rules: [{ operation: "sts:*", kind: "throttle", rate: 1, maxAttempt: 2, accessKeyId: t.accessKeyId }],
      }),
    });
    try {
      expect((await t.aws.sts.callerIdentity()).account).toBe("123456789012");
      expect((await t.counts()).calls).toEqual({ "sts:GetCallerIdentity": 3 });
    } finally {
      await fetch(`${sbx.proxyUrl}/_proxy/faults/remove`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ accessKeyId: t.accessKeyId }),
      });
    }
  });

  it("a call that gets no answer times out and is retried, instead of hanging", async () => {
    // Given a proxy that holds this test's first STS call for 20 s without answering
    const t = testAws(sbx, { requestTimeoutMs: 1_000 });
    await fetch(`${sbx.proxyUrl}/_proxy/faults/append`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        rules: [
          { operation: "sts:*", kind: "timeout", delayMs: 20_000, maxAttempt: 1, accessKeyId: t.accessKeyId },
        ],
      }),
    });
    try {
      // When the call is made, then the request timeout fails the first attempt and the retry answers
      const t0 = Date.now();
      expect((await t.aws.sts.callerIdentity()).account).toBe("123456789012");
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect((await t.counts()).calls).toEqual({ "sts:GetCallerIdentity": 2 });
    } finally {
      await fetch(`${sbx.proxyUrl}/_proxy/faults/remove`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ accessKeyId: t.accessKeyId }),
      });
    }
  });
});
