import { existsSync, readFileSync } from "node:fs";
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DescribeClusterCommand,
} from "@aws-sdk/client-eks";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { ensureRole, sdkConfig, type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { coreApi, createEksCluster, eksKubeConfig, type SdkCluster, statusOf, waitFor } from "./helpers.js";

let sbx: TestSandbox;
let cluster: SdkCluster;

beforeAll(async () => {
  sbx = await testSandbox();
  cluster = await createEksCluster(sbx, "kc-cp");
}, 90_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe("a control plane per EKS cluster", () => {
  it("turns a new cluster ACTIVE with a real endpoint answering /version as v1.34", async () => {
    // how soon is for benches (bench/create.ts); other test files share these two cores
    expect(cluster.activeAfterMs).toBeLessThan(60_000);
    const described = (await cluster.eks.send(new DescribeClusterCommand({ name: cluster.name }))).cluster!;
    expect(described.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(Buffer.from(described.certificateAuthority!.data!, "base64").toString()).toContain(
      "BEGIN CERTIFICATE",
    );
    const kc = await eksKubeConfig(sbx, cluster.name, cluster.credentials);
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.34\./);
  });

  it("admits the creator with an EKS token and refuses a caller without an access entry", async () => {
    const admin = await coreApi(sbx, cluster.name, cluster.credentials);
    expect((await admin.listNamespace()).items.map((n) => n.metadata?.name)).toContain("kube-system");

    // given a role that has no access entry in the cluster
    await ensureRole(sbx, "kc-test-stranger");
    const sts = new STSClient(sdkConfig(sbx));
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: "arn:aws:iam::123456789012:role/kc-test-stranger",
        RoleSessionName: "stranger",
      }),
    );
    const stranger = {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
    };
    // when it calls the API with its token, then it is not authenticated
    const refused = await (await coreApi(sbx, cluster.name, stranger)).listNamespace().catch((err) => err);
    expect(statusOf(refused)).toBe(401);

    // given a view-only access entry for that role, then it reads but cannot write
    await cluster.eks.send(
      new CreateAccessEntryCommand({
        clusterName: cluster.name,
        principalArn: "arn:aws:iam::123456789012:role/kc-test-stranger",
      }),
    );
    await cluster.eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster.name,
        principalArn: "arn:aws:iam::123456789012:role/kc-test-stranger",
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        accessScope: { type: "cluster" },
      }),
    );
    // The API server caches a webhook's denial for a few seconds, as it does on EKS.
    const viewer = await waitFor("the view entry to take effect", 20_000, async () => {
      const api = await coreApi(sbx, cluster.name, stranger);
      await api.listNamespacedPod({ namespace: "default" });
      return api;
    });
    const write = await viewer
      .createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "nope" } } })
      .catch((err) => err);
    expect(statusOf(write)).toBe(403);

    // given an edit policy scoped to one namespace, then it writes there and nowhere else
    await admin.createNamespace({ body: { metadata: { name: "team-a" } } });
    await cluster.eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster.name,
        principalArn: "arn:aws:iam::123456789012:role/kc-test-stranger",
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
        accessScope: { type: "namespace", namespaces: ["team-a"] },
      }),
    );
    await waitFor("the namespace-scoped edit policy to take effect", 20_000, async () => {
      const api = await coreApi(sbx, cluster.name, stranger);
      await api.createNamespacedConfigMap({ namespace: "team-a", body: { metadata: { name: "allowed" } } });
      return true;
    });
    const elsewhere = await (await coreApi(sbx, cluster.name, stranger))
      .createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "nope" } } })
      .catch((err) => err);
    expect(statusOf(elsewhere)).toBe(403);
  });

  it("starts one control plane for a cluster that stays CREATING longer than it takes to start", async () => {
    // given an EKS creation delay longer than a control plane's start (as benches set it)
    const config = (body: Record<string, unknown>) => adminCall(`${sbx.motoUrl}/_sandbox/config`, { body });
    await config({ eksCreateDelaySeconds: 15 });
    let slow: SdkCluster | undefined;
    try {
      // when a cluster is created and turns ACTIVE
      slow = await createEksCluster(sbx, "kc-cp-slow");
      const endpoint = (await slow.eks.send(new DescribeClusterCommand({ name: slow.name }))).cluster!
        .endpoint!;
      // then its control plane was started once (moto names no endpoint while CREATING: that is
      // not another endpoint), and the endpoint DescribeCluster gave keeps answering
      const log = readFileSync(`${sbx.dir}/logs/cluster-watcher.log`, "utf8")
        .split("\n")
        .filter((l) => l.includes(`"cluster":"${slow!.name}"`) && l.includes('"control-plane.ready"'));
      expect(log).toHaveLength(1);
      expect(log[0]).toContain(endpoint);
      await new Promise((r) => setTimeout(r, 3000));
      expect((await slow.eks.send(new DescribeClusterCommand({ name: slow.name }))).cluster!.endpoint).toBe(
        endpoint,
      );
    } finally {
      await config({ eksCreateDelaySeconds: 0 });
      await slow?.destroy();
    }
  }, 120_000);

  it("removes the control plane when the cluster is deleted", async () => {
    const other = await createEksCluster(sbx, "kc-cp-del");
    const kubeconfig = adminKubeconfigPath(`${sbx.dir}/k8s`, other.name);
    expect(existsSync(kubeconfig)).toBe(true);
    const endpoint = (await other.eks.send(new DescribeClusterCommand({ name: other.name }))).cluster!
      .endpoint!;
    await other.destroy();
    await waitFor("the control plane's files to go", 30_000, async () => !existsSync(kubeconfig));
    const refused = await fetch(`${endpoint}/version`).then(
      () => "answered",
      (err: Error) => String((err.cause as Error | undefined)?.message ?? err.message),
    );
    expect(refused).toMatch(/ECONNREFUSED|certificate/);
  });
});
