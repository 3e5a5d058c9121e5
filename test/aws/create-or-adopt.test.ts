import { describe, expect, it } from "vitest";
import { toAwsError } from "../../src/aws/errors.js";
import type { StepContext } from "../../src/engine/step.js";
import { createOrAdopt, retryEventual } from "../../src/engine/steps/aws/stack-env.js";

// Hand fakes of AWS answers the sandbox cannot produce on demand in this order (an answer lost
// after the change was made, then "already exists"; a role EKS cannot assume yet). They stand
// for the SDK's errors by shape: the AWS code as `name` and HTTP metadata.
function awsError(code: string, status: number, message = code): Error {
  return toAwsError(
    Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } }),
    "svc",
    "Op",
    "thing",
  );
}
const lost = () =>
  toAwsError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "svc", "Op", "thing");

function fakeContext(): StepContext & { retries: string[] } {
  const retries: string[] = [];
  return {
    retries,
    signal: new AbortController().signal,
    waiting() {},
    log() {},
    retrying(attempt, reason) {
      retries.push(`${attempt}: ${reason}`);
    },
    result() {
      throw new Error("no step results in this test");
    },
  };
}

describe("createOrAdopt", () => {
  it("adopts what a create whose answer was lost made, instead of making a second", async () => {
    let creates = 0;
    let exists = false;
    const made = await createOrAdopt(
      async () => {
        creates++;
        exists = true;
        throw lost();
      },
      async () => (exists ? "sg-1" : undefined),
      ["InvalidGroup.Duplicate"],
    );
    expect(made).toBe("sg-1");
    expect(creates).toBe(1);
  });

  it("tries again after a throttle without looking, and adopts on 'already exists'", async () => {
    const answers = [awsError("Throttling", 400), awsError("InvalidGroup.Duplicate", 400)];
    const made = await createOrAdopt(
      async () => {
        throw answers.shift()!;
      },
      async () => "sg-2",
      ["InvalidGroup.Duplicate"],
    );
    expect(made).toBe("sg-2");
    expect(answers).toEqual([]);
  });

  it("fails at once on an error that retrying cannot fix", async () => {
    let creates = 0;
    const err = await createOrAdopt(
      async () => {
        creates++;
        throw awsError("InvalidParameterValue", 400, "bad CIDR");
      },
      async () => undefined,
      [],
    ).catch((e: unknown) => e);
    expect((err as Error).message).toContain("svc:Op on thing failed: InvalidParameterValue");
    expect(creates).toBe(1);
  });
});

describe("retryEventual", () => {
  it("retries what AWS means as 'not yet' and reports each attempt", async () => {
    const ctx = fakeContext();
    let calls = 0;
    const value = await retryEventual(
      ctx,
      "create cluster kc-x-blue",
      async () => {
        if (++calls < 3) throw awsError("InvalidParameterException", 400, "Role could not be assumed");
        return "ok";
      },
      (err) => /assumed/.test((err as Error).message),
    );
    expect(value).toBe("ok");
    expect(ctx.retries.map((r) => r.split(":")[0])).toEqual(["2", "3"]);
  }, 20_000);
});
