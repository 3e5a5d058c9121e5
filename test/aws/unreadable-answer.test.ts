import { describe, expect, it } from "vitest";
import { isAmbiguous, toAwsError } from "../../src/aws/errors.js";

// An answer the SDK cannot parse (a body garbled or cut short on the way; the reliability
// harness's "malformed body" row) says so in words, is retryable, and counts as ambiguous: the
// call may have taken effect, so the next look decides.

describe("an AWS answer the SDK cannot read", () => {
  it("is reported as such, retryable, and ambiguous", () => {
    const sdkError = Object.assign(
      new Error(
        "expected '>' not found.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
      ),
      { $responseBodyText: "<Creat" },
    );
    const err = toAwsError(
      sdkError,
      "elasticloadbalancing",
      "CreateTargetGroup",
      "target group kc-x-blue-web",
    );
    expect(err.message).toBe(
      "elasticloadbalancing:CreateTargetGroup on target group kc-x-blue-web failed: UnreadableResponse: AWS's answer could not be read (expected '>' not found.); whether the call took effect is unknown",
    );
    expect(err.retryable).toBe(true);
    expect(isAmbiguous(err)).toBe(true);
  });

  it("leaves AWS's own errors as they are", () => {
    const notFound = Object.assign(new Error("Target group not found."), {
      name: "TargetGroupNotFound",
      $metadata: { httpStatusCode: 400 },
    });
    expect(toAwsError(notFound, "elasticloadbalancing", "DescribeTargetGroups", "x").message).toBe(
      "elasticloadbalancing:DescribeTargetGroups on x failed: TargetGroupNotFound: Target group not found.",
    );
  });
});
