import { createHash } from "node:crypto";
import {
  ACMClient,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ListCertificatesCommand,
} from "@aws-sdk/client-acm";
import {
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand as DescribeEcrImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from "@aws-sdk/client-ecr";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { ListHostedZonesByNameCommand, Route53Client } from "@aws-sdk/client-route-53";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

let sbx: TestSandbox;
let config: ReturnType<typeof sdkConfig>;

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  config = sdkConfig(sbx);
});

describe("the seeded account", () => {
  it("has the company VPC with public and private subnets in three zones, role-tagged", async () => {
    const ec2 = new EC2Client(config);
    const vpcs = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "tag:kubecontrol:vpc", Values: ["main"] }] }),
    );
    expect(vpcs.Vpcs).toHaveLength(1);
    const vpcId = vpcs.Vpcs![0]!.VpcId!;
    const subnets =
      (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] })))
        .Subnets ?? [];
    const zonesWith = (role: string) =>
      subnets
        .filter((s) => s.Tags?.some((t) => t.Key === `kubernetes.io/role/${role}` && t.Value === "1"))
        .map((s) => s.AvailabilityZone);
    expect(zonesWith("elb").sort()).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(zonesWith("internal-elb").sort()).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
  });

  it("has the apps' hosted zone, certificate (from the sandbox CA) and secret", async () => {
    const zones = await new Route53Client(config).send(
      new ListHostedZonesByNameCommand({ DNSName: "example.com" }),
    );
    expect(zones.HostedZones?.[0]?.Name).toBe("example.com.");

    const acm = new ACMClient(config);
    // the sandbox CA's certificates are ECDSA, which ListCertificates lists only when asked
    const certs =
      (await acm.send(new ListCertificatesCommand({ Includes: { keyTypes: ["EC_prime256v1"] } })))
        .CertificateSummaryList ?? [];
    const cert = certs.find((c) => c.DomainName === "webapp.example.com");
    expect(cert).toBeDefined();
    const described = await acm.send(
      new DescribeCertificateCommand({ CertificateArn: cert!.CertificateArn }),
    );
    expect(described.Certificate?.Issuer).toContain("kubecontrol sandbox CA");
    const pem = await acm.send(new GetCertificateCommand({ CertificateArn: cert!.CertificateArn }));
    expect(pem.CertificateChain).toContain("BEGIN CERTIFICATE");

    const secret = await new SecretsManagerClient(config).send(
      new GetSecretValueCommand({ SecretId: "webapp/db" }),
    );
    expect(Object.keys(JSON.parse(secret.SecretString!))).toContain("password");
  });

  it("has the EKS-optimized AMI parameters for every supported version, architecture and variant", async () => {
    const ssm = new SSMClient(config);
    const ec2 = new EC2Client(config);
    const variants = ["x86_64/standard", "arm64/standard", "x86_64/nvidia", "arm64/nvidia", "x86_64/neuron"];
    for (const version of ["1.31", "1.32", "1.33", "1.34", "1.35"]) {
      for (const variant of variants) {
        const name = `/aws/service/eks/optimized-ami/${version}/amazon-linux-2023/${variant}/recommended/image_id`;
        const value = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
        expect(value).toMatch(/^ami-[0-9a-f]{17}$/);
        const image = await ec2.send(new DescribeImagesCommand({ ImageIds: [value!] }));
        expect(image.Images?.[0]?.Name).toContain(`-${variant.replace("/", "-")}-${version}-`);
      }
    }
    const byPath = await ssm.send(
      new GetParametersByPathCommand({ Path: "/aws/service/eks/optimized-ami/1.34", Recursive: true }),
    );
    expect(byPath.Parameters?.length).toBe(5);
  });
});

describe("ECR", () => {
  it("points repositories and tokens at the sandbox registry and digests manifests as a registry does", async () => {
    const previous = await adminCall<{ registryHost: string | null }>(`${sbx.motoUrl}/_sandbox/config`);
    const ecr = new ECRClient(config);
    const name = uniqueName("kc-test-app");
    // created before the registry address is known: it still follows the address later
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    try {
      await adminCall(`${sbx.motoUrl}/_sandbox/config`, { body: { registryHost: "127.0.0.1:5999" } });
      const described = await ecr.send(new CreateRepositoryCommand({ repositoryName: `${name}-2` }));
      expect(described.repository?.repositoryUri).toBe(`127.0.0.1:5999/${name}-2`);
      const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      expect(token.proxyEndpoint).toBe("https://127.0.0.1:5999");
      expect(token.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 3600_000);

      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: `sha256:${"1".repeat(64)}`,
          size: 2,
        },
        layers: [],
      });
      const put = await ecr.send(
        new PutImageCommand({ repositoryName: name, imageManifest: manifest, imageTag: "v1" }),
      );
      const digest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
      expect(put.image?.imageId?.imageDigest).toBe(digest);
      const images = await ecr.send(new DescribeEcrImagesCommand({ repositoryName: name }));
      expect(images.imageDetails?.[0]?.imageDigest).toBe(digest);
    } finally {
      await adminCall(`${sbx.motoUrl}/_sandbox/config`, { body: { registryHost: previous.registryHost } });
      await ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true }));
      await ecr.send(new DeleteRepositoryCommand({ repositoryName: `${name}-2`, force: true }));
    }
  });
});

describe("ELBv2 target health", () => {
  it("is unused until a load balancer forwards to the group, then initial until the sandbox publishes it", async () => {
    const elb = new ElasticLoadBalancingV2Client(config);
    const ec2 = new EC2Client(config);
    const vpc = (
      await ec2.send(
        new DescribeVpcsCommand({ Filters: [{ Name: "tag:kubecontrol:vpc", Values: ["main"] }] }),
      )
    ).Vpcs![0]!.VpcId!;
    const publicSubnets = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpc] },
          { Name: "tag:kubernetes.io/role/elb", Values: ["1"] },
        ],
      }),
    );
    const group = await elb.send(
      new CreateTargetGroupCommand({
        Name: uniqueName("kc-test-tg"),
        Protocol: "HTTP",
        Port: 30080,
        VpcId: vpc,
        TargetType: "ip",
      }),
    );
    const arn = group.TargetGroups![0]!.TargetGroupArn!;
    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: "10.0.64.10", Port: 30080 }] }),
    );
    const health = async () =>
      (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions?.[0]
        ?.TargetHealth;
    expect(await health()).toMatchObject({ State: "unused", Reason: "Target.NotInUse" });

    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: uniqueName("kc-test-lb"),
        Subnets: publicSubnets.Subnets!.map((s) => s.SubnetId!),
      }),
    );
    const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: arn }],
      }),
    );
    expect(await health()).toMatchObject({ State: "initial", Reason: "Elb.RegistrationInProgress" });

    await adminCall(`${sbx.motoUrl}/_sandbox/elbv2/target-health`, {
      body: { targetGroupArn: arn, targets: [{ id: "10.0.64.10", port: 30080, state: "healthy" }] },
    });
    expect((await health())?.State).toBe("healthy");

    await adminCall(`${sbx.motoUrl}/_sandbox/elbv2/target-health`, {
      body: {
        targetGroupArn: arn,
        targets: [
          { id: "10.0.64.10", port: 30080, state: "unhealthy", reason: "Target.ResponseCodeMismatch" },
        ],
      },
    });
    expect(await health()).toMatchObject({ State: "unhealthy", Reason: "Target.ResponseCodeMismatch" });
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
  });
});
