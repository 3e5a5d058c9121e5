import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureRole, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

const run = promisify(execFile);
let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

/** Runs the AWS CLI (v1 reads AWS_DEFAULT_REGION) with the sandbox's environment, as `eval "$(kubecontrol sandbox env)"` sets it. */
async function aws(...args: string[]): Promise<unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...sbx.env, AWS_PAGER: "" };
  delete env.AWS_PROFILE;
  const { stdout } = await run("aws", [...args, "--output", "json"], { env, timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

describe("the AWS CLI against the sandbox", () => {
  it("sees the seed and makes clusters with access entries", async () => {
    const zones = (await aws("route53", "list-hosted-zones")) as { HostedZones: { Name: string }[] };
    expect(zones.HostedZones.map((z) => z.Name)).toContain("example.com.");
    const parameter = (await aws(
      "ssm",
      "get-parameter",
      "--name",
      "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/image_id",
    )) as { Parameter: { Value: string } };
    expect(parameter.Parameter.Value).toMatch(/^ami-/);

    const name = uniqueName("kc-test-cli");
    await aws(
      "eks",
      "create-cluster",
      "--name",
      name,
      "--role-arn",
      "arn:aws:iam::123456789012:role/kc-test-eks",
      "--resources-vpc-config",
      "subnetIds=subnet-1",
      "--access-config",
      "authenticationMode=API",
    );
    // CREATING until its control plane is up (part 2) or its minimum delay has passed
    const created = (await aws("eks", "describe-cluster", "--name", name)) as { cluster: { status: string } };
    expect(["CREATING", "ACTIVE"]).toContain(created.cluster.status);
    await ensureRole(sbx, "kc-test-cli");
    const entry = (await aws(
      "eks",
      "create-access-entry",
      "--cluster-name",
      name,
      "--principal-arn",
      "arn:aws:iam::123456789012:role/kc-test-cli",
    )) as { accessEntry: { principalArn: string } };
    expect(entry.accessEntry.principalArn).toBe("arn:aws:iam::123456789012:role/kc-test-cli");
    await aws("eks", "delete-cluster", "--name", name);
  });
});
