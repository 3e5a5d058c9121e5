import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { ACMClient, ListCertificatesCommand } from "@aws-sdk/client-acm";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AppsV1Api, CoreV1Api, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";
import { createEksCluster, eksKubeConfig, type SdkCluster, waitFor } from "./helpers.js";

let sbx: TestSandbox;
let cluster: SdkCluster;
let elb: ElasticLoadBalancingV2Client;
let asg: AutoScalingClient;
let ec2: EC2Client;
const group = uniqueName("kc-lb-asg");
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  sbx = await testSandbox();
  cluster = await createEksCluster(sbx, "kc-lb");
  elb = new ElasticLoadBalancingV2Client(sdkConfig(sbx));
  asg = new AutoScalingClient(sdkConfig(sbx));
  ec2 = new EC2Client(sdkConfig(sbx));
}, 90_000);

afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
  await cluster?.destroy();
});

describe("load balancers on loopback", () => {
  it("answers 200 once Ready pods back the target group's node port and 503 when none do, as DescribeTargetHealth says", async () => {
    const subnets = (
      await ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: "tag:kubernetes.io/role/elb", Values: ["1"] }] }),
      )
    ).Subnets!;
    const vpcId = subnets[0]!.VpcId!;
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: uniqueName("kc-lb-tg"),
        Protocol: "HTTP",
        Port: 30081,
        VpcId: vpcId,
        TargetType: "instance",
        HealthCheckPath: "/healthz",
      }),
    );
    const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
    cleanup.push(() => elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgArn })));
    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: uniqueName("kc-lb"),
        Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
        Scheme: "internet-facing",
        Type: "application",
      }),
    );
    const { LoadBalancerArn: lbArn, DNSName: dns } = lb.LoadBalancers![0]!;
    cleanup.push(() => elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn })));
    expect(dns).toMatch(/^127\.\d+\.\d+\.\d+$/);
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
      }),
    );
    // an HTTPS listener with a certificate the seed put in ACM (issued by the sandbox CA)
    // (ECDSA, as the sandbox CA issues them: listed only when asked for, as on AWS)
    const certs = await new ACMClient(sdkConfig(sbx)).send(
      new ListCertificatesCommand({ Includes: { keyTypes: ["EC_prime256v1"] } }),
    );
    const cert = certs.CertificateSummaryList!.find((c) => c.DomainName === "webapp.example.com")!;
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: "HTTPS",
        Port: 443,
        Certificates: [{ CertificateArn: cert.CertificateArn! }],
        DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
      }),
    );
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: uniqueName("kc-lb-lt"),
        LaunchTemplateData: { ImageId: "ami-12345678", InstanceType: "m5.large" },
      }),
    );
    const templateId = template.LaunchTemplate!.LaunchTemplateId!;
    cleanup.push(() => ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId })));
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        MinSize: 0,
        MaxSize: 2,
        DesiredCapacity: 1,
        VPCZoneIdentifier: subnets[0]!.SubnetId!,
        TargetGroupARNs: [tgArn],
        LaunchTemplate: { LaunchTemplateId: templateId, Version: "$Latest" },
        Tags: [{ Key: `kubernetes.io/cluster/${cluster.name}`, Value: "owned", PropagateAtLaunch: true }],
      }),
    );
    cleanup.push(() =>
      asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true })),
    );

    // this sandbox, not another one on the machine, must be serving the load balancer's address
    const lbComponent = JSON.parse(readFileSync(`${sbx.dir}/state.json`, "utf8")).components["load-balancers"]
      .address;
    await waitFor(`the sandbox to serve ${dns}:80`, 15_000, async () => {
      const listeners = (await (await fetch(`${lbComponent}/listeners`)).json()) as {
        serving: string[];
        problems: string[];
      };
      const clash = listeners.problems.find((p) => p.includes(`${dns}:80`));
      if (clash) throw new Error(`cannot serve the load balancer: ${clash}`);
      return listeners.serving.includes(`${dns}:80`);
    });
    const health = async () =>
      (
        await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))
      ).TargetHealthDescriptions!.map((d) => d.TargetHealth!.State);
    const status = async () =>
      (await fetch(`http://${dns}/healthz`, { signal: AbortSignal.timeout(2000) })).status;

    // given a node but no Service behind the port: unhealthy, 503
    await waitFor(
      "the target to be judged unhealthy",
      45_000,
      async () => (await health()).join() === "unhealthy",
    );
    expect(await status()).toBe(503);

    // when Ready pods back a NodePort Service on the target group's port: healthy, 200
    const kc = await eksKubeConfig(sbx, cluster.name, cluster.credentials);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "web:1" }] },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: "default",
      body: {
        metadata: { name: "web" },
        spec: {
          type: "NodePort",
          selector: { app: "web" },
          ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }],
        },
      },
    });
    await waitFor("the target to be healthy", 45_000, async () => (await health()).join() === "healthy");
    expect(await status()).toBe(200);
    // HTTPS verifies against the sandbox CA for the certificate's domain, picked by SNI
    const tls = await httpsStatus(dns!, cert.DomainName!, readFileSync(`${sbx.dir}/ca/ca.pem`, "utf8"));
    expect(tls).toEqual({ status: 200, subject: cert.DomainName });

    // when no pod backs it any more: unhealthy again, 503
    await apps.patchNamespacedDeploymentScale(
      { namespace: "default", name: "web", body: [{ op: "replace", path: "/spec/replicas", value: 0 }] },
      setHeaderOptions("Content-Type", "application/json-patch+json"),
    );
    await waitFor("the target to be unhealthy", 45_000, async () => (await health()).join() === "unhealthy");
    expect(await status()).toBe(503);
  }, 180_000);
});

/** GET / over HTTPS to an address, sending `servername` as SNI and verifying against `ca`. */
function httpsStatus(
  address: string,
  servername: string,
  ca: string,
): Promise<{ status?: number; subject?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 443, path: "/", servername, ca, timeout: 2000 }, (res) => {
      const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
      const subject = Array.isArray(cn) ? cn[0] : cn;
      res.resume();
      resolve({ status: res.statusCode, subject });
    });
    req.on("error", reject);
    req.end();
  });
}
