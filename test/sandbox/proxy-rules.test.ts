import { describe, expect, it } from "vitest";
import { accessKeyIdOf, operationOf, protocolOf, signingService } from "../../src/sandbox/proxy/classify.js";
import {
  attemptOf,
  decideFault,
  draw,
  type FaultRule,
  resourceKey,
  ruleMatches,
} from "../../src/sandbox/proxy/faults.js";
import { errorResponse, throttleError } from "../../src/sandbox/proxy/protocol-errors.js";

const auth = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
});

describe("identifying calls", () => {
  it("reads service and key from SigV4 headers and presigned URLs", () => {
    expect(signingService(auth("eks"), "/clusters")).toBe("eks");
    expect(accessKeyIdOf(auth("eks"), "/clusters")).toBe("AKIAEXAMPLE");
    const presigned =
      "/?Action=GetCallerIdentity&X-Amz-Credential=AKIAPRESIGN%2F20260101%2Fus-east-1%2Fsts%2Faws4_request";
    expect(signingService({}, presigned)).toBe("sts");
    expect(accessKeyIdOf({}, presigned)).toBe("AKIAPRESIGN");
    expect(signingService({}, "/_sandbox/health")).toBeUndefined();
  });

  it("names operations by protocol: target header, Action form field, REST method and path", () => {
    expect(
      operationOf("ecr", "awsJson1_1", "POST", "/", {
        "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.PutImage",
      }),
    ).toBe("PutImage");
    expect(
      operationOf("ec2", "ec2Query", "POST", "/", {}, Buffer.from("Action=RunInstances&Version=2016-11-15")),
    ).toBe("RunInstances");
    const entry = "/clusters/web/access-entries/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx";
    expect(operationOf("eks", "restJson1", "GET", entry, {})).toBe("DescribeAccessEntry");
    expect(operationOf("eks", "restJson1", "POST", `${entry}/access-policies`, {})).toBe(
      "AssociateAccessPolicy",
    );
    expect(
      operationOf(
        "eks",
        "restJson1",
        "DELETE",
        `${entry}/access-policies/arn%3Aaws%3Aeks%3A%3Aaws%3Acluster-access-policy%2FV`,
        {},
      ),
    ).toBe("DisassociateAccessPolicy");
    expect(operationOf("eks", "restJson1", "GET", "/clusters?maxResults=10", {})).toBe("ListClusters");
    expect(operationOf("route53", "restXml", "POST", "/2013-04-01/hostedzone/Z1/rrset/", {})).toBe(
      "ChangeResourceRecordSets",
    );
    expect(protocolOf("elasticloadbalancing", {})).toBe("awsQuery");
  });
});

describe("fault decisions", () => {
  const rule: FaultRule = { operation: "eks:*", kind: "throttle", rate: 0.5, seed: 7 };
  const subject = { service: "eks", operation: "CreateCluster", resource: "/clusters\u0000{}", attempt: 1 };

  it("match service:Operation globs, and bare operation names in any service", () => {
    expect(ruleMatches(rule, "eks", "CreateCluster")).toBe(true);
    expect(ruleMatches(rule, "ec2", "CreateCluster")).toBe(false);
    expect(ruleMatches({ ...rule, operation: "Describe*" }, "ec2", "DescribeVpcs")).toBe(true);
  });

  it("depend only on (seed, operation, resource, attempt)", () => {
    expect(draw(7, subject)).toBe(draw(7, { ...subject }));
    expect(draw(7, subject)).not.toBe(draw(8, subject));
    expect(draw(7, subject)).not.toBe(draw(7, { ...subject, attempt: 2 }));
    const always = { ...rule, rate: 1 };
    expect(decideFault([always], subject)).toBe(always);
    expect(decideFault([{ ...always, maxAttempt: 1 }], { ...subject, attempt: 2 })).toBeUndefined();
    expect(
      decideFault([{ ...always, accessKeyId: "AKIAOTHER" }], { ...subject, accessKeyId: "AKIAME" }),
    ).toBeUndefined();
  });

  it("ignore idempotency tokens, which the SDK makes up per call", () => {
    const a = resourceKey(
      "/clusters",
      "application/json",
      Buffer.from('{"name":"x","clientRequestToken":"1"}'),
    );
    const b = resourceKey(
      "/clusters",
      "application/json",
      Buffer.from('{"clientRequestToken":"2","name":"x"}'),
    );
    expect(a).toBe(b);
    const form = (token: string) =>
      resourceKey(
        "/",
        "application/x-www-form-urlencoded",
        Buffer.from(`Action=RunInstances&ClientToken=${token}&MinCount=1`),
      );
    expect(form("a")).toBe(form("b"));
    expect(attemptOf("attempt=3; max=3")).toBe(3);
    expect(attemptOf(undefined)).toBe(1);
  });

  it("write errors in the service's protocol", () => {
    const json = errorResponse("restJson1", throttleError("restJson1"));
    expect(json.status).toBe(429);
    expect(json.headers["x-amzn-errortype"]).toBe("ThrottlingException");
    const ec2 = errorResponse("ec2Query", throttleError("ec2Query"));
    expect(ec2.body).toContain("<Code>RequestLimitExceeded</Code>");
    const query = errorResponse("awsQuery", throttleError("awsQuery"));
    expect(query.body).toContain("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>");
  });
});
