import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { presignEksToken, presignedUrlOf } from "../../src/kube/eks-token.js";
import { EksTokenSource } from "../../src/kube/eks-token-source.js";
import { type TestSandbox, testAccessKeyId, testSandbox } from "../helpers/sandbox.js";

const run = promisify(execFile);
let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox();
});

/** What `aws eks get-token` (the AWS CLI) makes for these credentials against the sandbox's STS. */
async function awsCliToken(
  cluster: string,
  accessKeyId: string,
): Promise<{ token: string; expiration: string }> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    AWS_ENDPOINT_URL: sbx.endpoint,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: "sandbox",
    AWS_DEFAULT_REGION: sbx.region,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  const { stdout } = await run("aws", ["eks", "get-token", "--cluster-name", cluster, "--output", "json"], {
    env,
  });
  const parsed = JSON.parse(stdout) as { status: { token: string; expirationTimestamp: string } };
  return { token: parsed.status.token, expiration: parsed.status.expirationTimestamp };
}

describe("EKS bearer tokens", () => {
  it("are what `aws eks get-token` makes for the same credentials, signature included", async () => {
    // given the AWS CLI's token for a cluster
    const accessKeyId = testAccessKeyId();
    const cli = await awsCliToken("kc-token-test", accessKeyId);
    const cliUrl = presignedUrlOf(cli.token);
    const amzDate = cliUrl.searchParams.get("X-Amz-Date")!;
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    // when kubecontrol presigns one for the same cluster, credentials, endpoint and instant
    const ours = await presignEksToken({
      clusterName: "kc-token-test",
      region: sbx.region,
      credentials: { accessKeyId, secretAccessKey: "sandbox" },
      endpoint: sbx.endpoint,
      now: signingDate,
    });
    // then it has the same prefix, unpadded base64url, URL and parameters, and the same signature
    expect(ours.token.startsWith("k8s-aws-v1.")).toBe(true);
    expect(ours.token).not.toMatch(/[=+/]/);
    const ourUrl = presignedUrlOf(ours.token);
    expect(ourUrl.origin + ourUrl.pathname).toBe(cliUrl.origin + cliUrl.pathname);
    const params = (u: URL) => Object.fromEntries([...u.searchParams].sort(([a], [b]) => a.localeCompare(b)));
    expect(params(ourUrl)).toEqual(params(cliUrl));
    expect(ourUrl.searchParams.get("X-Amz-SignedHeaders")).toBe("host;x-k8s-aws-id");
    expect(ourUrl.searchParams.get("X-Amz-Expires")).toBe("60");
    // and both say it lasts 14 minutes
    expect(Date.parse(cli.expiration) - signingDate.getTime()).toBeLessThanOrEqual(14 * 60_000 + 1000);
    expect(ours.expiresAt.getTime() - signingDate.getTime()).toBe(14 * 60_000);
  });

  it("are presigned again shortly before they expire, and shared until then", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const source = new EksTokenSource({
      clusterName: "kc-token-test",
      region: sbx.region,
      credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
      stsEndpoint: sbx.endpoint,
      now: () => now,
    });
    const [first, concurrent] = await Promise.all([source.token(), source.token()]);
    expect(concurrent).toBe(first);
    now += 11 * 60_000; // 3 minutes left: still good
    expect(await source.token()).toBe(first);
    now += 60_001; // under 2 minutes left: refreshed
    const second = await source.token();
    expect(second).not.toBe(first);
    expect(source.expiresAt()?.getTime()).toBe(now + 14 * 60_000);
  });
});
