import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  RepositoryAlreadyExistsException,
} from "@aws-sdk/client-ecr";
import { EKSClient, ListClustersCommand, ServerException, ThrottlingException } from "@aws-sdk/client-eks";
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient, ListRolesCommand } from "@aws-sdk/client-iam";
import { ListHostedZonesCommand, Route53Client } from "@aws-sdk/client-route-53";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import type { FaultRule } from "../../src/sandbox/proxy/faults.js";
import {
  callCounts,
  sdkConfig,
  type TestSandbox,
  testAccessKeyId,
  testSandbox,
  uniqueName,
} from "../helpers/sandbox.js";

let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
});
afterAll(async () => {
  await adminCall(`${sbx.proxyUrl}/_proxy/faults`, { method: "DELETE" });
});

async function setRules(rules: Partial<FaultRule>[]): Promise<void> {
  await adminCall(`${sbx.proxyUrl}/_proxy/faults`, { body: { rules } });
}

/** One call per service, each through a client of that service, as kubecontrol makes them. */
function callsFor(config: ReturnType<typeof sdkConfig> & { maxAttempts?: number }) {
  return {
    eks: () => new EKSClient(config).send(new ListClustersCommand({})),
    autoscaling: () => new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({})),
    ec2: () => new EC2Client(config).send(new DescribeVpcsCommand({})),
    route53: () => new Route53Client(config).send(new ListHostedZonesCommand({})),
    ecr: () => new ECRClient(config).send(new DescribeRepositoriesCommand({})),
    secretsmanager: () => new SecretsManagerClient(config).send(new ListSecretsCommand({})),
    elasticloadbalancing: () =>
      new ElasticLoadBalancingV2Client(config).send(new DescribeLoadBalancersCommand({})),
    iam: () => new IAMClient(config).send(new ListRolesCommand({})),
    sts: () => new STSClient(config).send(new GetCallerIdentityCommand({})),
  };
}

// The throttling error each service answers on AWS, by the signing name the proxy sees.
const THROTTLE_CODES: Record<string, string> = {
  eks: "ThrottlingException",
  autoscaling: "Throttling",
  ec2: "RequestLimitExceeded",
  route53: "Throttling",
  ecr: "ThrottlingException",
  secretsmanager: "ThrottlingException",
  elasticloadbalancing: "Throttling",
  iam: "Throttling",
  sts: "Throttling",
};

describe.sequential("fault injection", () => {
  it("throttles each service in its own protocol: the SDK names AWS's error and retries it", async () => {
    const key = testAccessKeyId();
    await setRules([{ operation: "*:*", kind: "throttle", accessKeyId: key }]);
    for (const [service, call] of Object.entries(callsFor({ ...sdkConfig(sbx, key), maxAttempts: 1 }))) {
      const error = await call().then(
        () => undefined,
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      expect(error?.name, service).toBe(THROTTLE_CODES[service]);
    }
    expect(await callCounts(sbx, key).then((c) => c.total)).toBe(9);

    const retried = testAccessKeyId();
    await setRules([{ operation: "*:*", kind: "throttle", accessKeyId: retried, maxAttempt: 1 }]);
    // Nine calls at once: each waits out the SDK's throttling back-off before its retry.
    const outs = await Promise.all(Object.values(callsFor(sdkConfig(sbx, retried))).map((call) => call()));
    expect(outs.map((o) => o.$metadata.attempts)).toEqual(Array(9).fill(2));
    const counts = await callCounts(sbx, retried);
    expect(counts.total).toBe(18);
    expect(counts.faults["eks:ListClusters"]).toEqual({ throttle: 1 });
  });

  it("gives EKS's modeled error classes for throttling and server errors", async () => {
    const key = testAccessKeyId();
    const eks = new EKSClient({ ...sdkConfig(sbx, key), maxAttempts: 1 });
    await setRules([{ operation: "eks:ListClusters", kind: "throttle", accessKeyId: key }]);
    await expect(eks.send(new ListClustersCommand({}))).rejects.toBeInstanceOf(ThrottlingException);
    await setRules([{ operation: "eks:ListClusters", kind: "5xx", accessKeyId: key }]);
    await expect(eks.send(new ListClustersCommand({}))).rejects.toBeInstanceOf(ServerException);
  });

  it("retries 5xx, timeouts and lost responses; a lost response's change was made", async () => {
    const key = testAccessKeyId();
    const config = sdkConfig(sbx, key);
    const name = uniqueName("kc-test-lost");
    await setRules([
      { operation: "eks:ListClusters", kind: "5xx", accessKeyId: key, maxAttempt: 1 },
      { operation: "ec2:DescribeVpcs", kind: "timeout", delayMs: 200, accessKeyId: key, maxAttempt: 1 },
      { operation: "ecr:CreateRepository", kind: "lost-response", accessKeyId: key, maxAttempt: 1 },
    ]);
    expect((await new EKSClient(config).send(new ListClustersCommand({}))).$metadata.attempts).toBe(2);
    expect((await new EC2Client(config).send(new DescribeVpcsCommand({}))).$metadata.attempts).toBe(2);
    const ecr = new ECRClient(config);
    // The first attempt created the repository in moto; its answer was dropped; the retry finds it.
    await expect(ecr.send(new CreateRepositoryCommand({ repositoryName: name }))).rejects.toBeInstanceOf(
      RepositoryAlreadyExistsException,
    );
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true }));
    expect((await callCounts(sbx, key)).calls).toEqual({
      "ec2:DescribeVpcs": 2,
      "ecr:CreateRepository": 2,
      "ecr:DeleteRepository": 1,
      "eks:ListClusters": 2,
    });
  });

  it("adds latency and serves garbage that the SDK cannot parse (and does not retry)", async () => {
    const key = testAccessKeyId();
    await setRules([
      { operation: "ec2:DescribeVpcs", kind: "latency", delayMs: 300, accessKeyId: key },
      { operation: "eks:ListClusters", kind: "garbage", accessKeyId: key },
    ]);
    const t0 = Date.now();
    await new EC2Client(sdkConfig(sbx, key)).send(new DescribeVpcsCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await expect(new EKSClient(sdkConfig(sbx, key)).send(new ListClustersCommand({}))).rejects.toThrow();
    expect((await callCounts(sbx, key)).calls["eks:ListClusters"]).toBe(1);
  });

  it("replays a seeded storm identically under concurrency, and another seed differs", async () => {
    const zones = Array.from({ length: 24 }, (_, i) => `us-east-1-zone-${i}`);
    async function storm(seed: number): Promise<string[]> {
      const key = testAccessKeyId();
      await setRules([
        { operation: "ec2:DescribeSubnets", kind: "throttle", rate: 0.5, seed, accessKeyId: key },
      ]);
      const ec2 = new EC2Client({ ...sdkConfig(sbx, key), maxAttempts: 1 });
      const results = await Promise.all(
        zones.map((zone) =>
          ec2
            .send(new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: [zone] }] }))
            .then(
              () => "",
              () => zone,
            ),
        ),
      );
      const failed = results.filter(Boolean);
      expect((await callCounts(sbx, key)).faults["ec2:DescribeSubnets"]?.throttle ?? 0).toBe(failed.length);
      return failed;
    }
    const first = await storm(42);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(zones.length);
    expect(await storm(42)).toEqual(first);
    expect(await storm(43)).not.toEqual(first);
  });
});

describe("fault rule admin", () => {
  it("appends and removes rules in one step, so concurrent tests keep each other's", async () => {
    const [a, b] = [testAccessKeyId(), testAccessKeyId()];
    const url = `${sbx.proxyUrl}/_proxy/faults`;
    await Promise.all(
      [a, b].map((accessKeyId) =>
        adminCall(`${url}/append`, { body: { rules: [{ operation: "sts:*", kind: "5xx", accessKeyId }] } }),
      ),
    );
    const both = await adminCall<{ rules: FaultRule[] }>(url);
    expect(both.rules.filter((r) => r.accessKeyId === a || r.accessKeyId === b)).toHaveLength(2);
    await adminCall(`${url}/remove`, { body: { accessKeyId: a } });
    const left = await adminCall<{ rules: FaultRule[] }>(url);
    expect(left.rules.map((r) => r.accessKeyId).filter((k) => k === a || k === b)).toEqual([b]);
    await adminCall(`${url}/remove`, { body: { accessKeyId: b } });
  });
});

describe("call counts", () => {
  it("are exact per operation, for the calls signed with one key", async () => {
    const key = testAccessKeyId();
    const config = sdkConfig(sbx, key);
    const ec2 = new EC2Client(config);
    const eks = new EKSClient(config);
    for (let i = 0; i < 3; i++) await ec2.send(new DescribeVpcsCommand({}));
    await Promise.all([eks.send(new ListClustersCommand({})), eks.send(new ListClustersCommand({}))]);
    expect(await callCounts(sbx, key)).toEqual({
      total: 5,
      calls: { "ec2:DescribeVpcs": 3, "eks:ListClusters": 2 },
      faults: {},
    });
    await adminCall(`${sbx.proxyUrl}/_proxy/calls/reset?accessKeyId=${key}`, { method: "POST" });
    expect((await callCounts(sbx, key)).total).toBe(0);
  });
});
