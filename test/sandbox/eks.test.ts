import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreateClusterCommand,
  DeleteAccessEntryCommand,
  DeleteClusterCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  InvalidParameterException,
  InvalidRequestException,
  ListAccessEntriesCommand,
  ListAssociatedAccessPoliciesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAccessEntryCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { ensureRole, sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

let sbx: TestSandbox;
let eks: EKSClient;
const ROLE = "arn:aws:iam::123456789012:role/kc-test-eks";
const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  eks = new EKSClient(sdkConfig(sbx));
});

async function setConfig(changes: Record<string, unknown>): Promise<Record<string, unknown>> {
  return adminCall(`${sbx.motoUrl}/_sandbox/config`, { body: changes });
}

async function createCluster(mode: "API" | "API_AND_CONFIG_MAP" | "CONFIG_MAP" = "API"): Promise<string> {
  const name = uniqueName("kc-test");
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: ROLE,
      version: "1.34",
      resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
      accessConfig: { authenticationMode: mode, bootstrapClusterCreatorAdminPermissions: true },
    }),
  );
  return name;
}

async function status(name: string): Promise<string | undefined> {
  return (await eks.send(new DescribeClusterCommand({ name }))).cluster?.status;
}

// These tests change the sandbox's EKS delays: they run one after the other, and put them back.
describe.sequential("EKS cluster phases", () => {
  let before: Record<string, unknown>;
  beforeAll(async () => {
    before = await adminCall(`${sbx.motoUrl}/_sandbox/config`);
  });
  afterAll(async () => {
    const { eksCreateDelaySeconds, eksDeleteDelaySeconds, requireControlPlane } = before;
    await setConfig({ eksCreateDelaySeconds, eksDeleteDelaySeconds, requireControlPlane });
  });

  it("is CREATING for the minimum delay, then ACTIVE; DELETING, then gone", async () => {
    await setConfig({ eksCreateDelaySeconds: 1, eksDeleteDelaySeconds: 1 });
    const name = await createCluster();
    const described = (await eks.send(new DescribeClusterCommand({ name }))).cluster!;
    expect(described.status).toBe("CREATING");
    expect(described.endpoint).toBeUndefined();
    await expect.poll(() => status(name), { timeout: 5000, interval: 100 }).toBe("ACTIVE");
    // no control plane was published (part 2 is not running here): no endpoint, as moto's fake one is gone
    expect((await eks.send(new DescribeClusterCommand({ name }))).cluster?.endpoint).toBeUndefined();

    const deleted = await eks.send(new DeleteClusterCommand({ name }));
    expect(deleted.cluster?.status).toBe("DELETING");
    expect(await status(name)).toBe("DELETING");
    await expect
      .poll(() => status(name).catch((e: unknown) => (e as Error).name), { timeout: 5000, interval: 100 })
      .toBe("ResourceNotFoundException");
  });

  it("stays CREATING until the control plane's endpoint and CA are published, then returns them", async () => {
    await setConfig({ eksCreateDelaySeconds: 0, requireControlPlane: true });
    const name = await createCluster();
    await new Promise((r) => setTimeout(r, 300));
    expect(await status(name)).toBe("CREATING");
    const listed = await adminCall<{ name: string; status: string }[]>(
      `${sbx.motoUrl}/_sandbox/eks/clusters`,
    );
    expect(listed.find((c) => c.name === name)?.status).toBe("CREATING");

    const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----\n").toString(
      "base64",
    );
    await adminCall(`${sbx.motoUrl}/_sandbox/eks/clusters/${name}/control-plane`, {
      body: { endpoint: "https://127.0.0.1:6443", certificateAuthority: ca },
    });
    const cluster = (await eks.send(new DescribeClusterCommand({ name }))).cluster!;
    expect(cluster.status).toBe("ACTIVE");
    expect(cluster.endpoint).toBe("https://127.0.0.1:6443");
    expect(cluster.certificateAuthority?.data).toBe(ca);
    await setConfig({ requireControlPlane: false });
    await eks.send(new DeleteClusterCommand({ name }));
  });
});

describe("EKS tags", () => {
  it("removes every key UntagResource names (a repeated query parameter), as EKS does", async () => {
    const name = await createCluster();
    const arn = (await eks.send(new DescribeClusterCommand({ name }))).cluster!.arn!;
    await eks.send(new TagResourceCommand({ resourceArn: arn, tags: { a: "1", b: "2", c: "3" } }));
    await eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["a", "b"] }));
    const tags = (await eks.send(new DescribeClusterCommand({ name }))).cluster!.tags ?? {};
    expect(tags).toMatchObject({ c: "3" });
    expect(tags).not.toHaveProperty("a");
    expect(tags).not.toHaveProperty("b");
    await eks.send(new DeleteClusterCommand({ name }));
  });
});

describe("EKS access entries", () => {
  let cluster: string;
  const principal = "arn:aws:iam::123456789012:role/kc-test-deployers";

  beforeAll(async () => {
    await ensureRole(sbx, "kc-test-deployers");
    cluster = await createCluster("API_AND_CONFIG_MAP");
  });
  afterAll(async () => {
    await eks.send(new DeleteClusterCommand({ name: cluster }));
  });

  it("gives the cluster creator an admin entry (bootstrapClusterCreatorAdminPermissions)", async () => {
    const described = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster!;
    expect(described.accessConfig).toEqual({
      authenticationMode: "API_AND_CONFIG_MAP",
      bootstrapClusterCreatorAdminPermissions: true,
    });
    const entries =
      (await eks.send(new ListAccessEntriesCommand({ clusterName: cluster }))).accessEntries ?? [];
    expect(entries).toHaveLength(1);
    const creator = entries[0]!;
    const policies = await eks.send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn: creator }),
    );
    expect(policies.associatedAccessPolicies?.map((p) => [p.policyArn, p.accessScope?.type])).toEqual([
      [ADMIN, "cluster"],
    ]);
  });

  it("round-trips an entry and its policies through the SDK, as AWS documents them", async () => {
    const created = await eks.send(
      new CreateAccessEntryCommand({
        clusterName: cluster,
        principalArn: principal,
        kubernetesGroups: ["deployers"],
      }),
    );
    expect(created.accessEntry).toMatchObject({
      clusterName: cluster,
      principalArn: principal,
      kubernetesGroups: ["deployers"],
      type: "STANDARD",
      username: "arn:aws:sts::123456789012:assumed-role/kc-test-deployers/{{SessionName}}",
    });
    expect(created.accessEntry?.accessEntryArn).toMatch(
      new RegExp(
        `^arn:aws:eks:us-east-1:123456789012:access-entry/${cluster}/role/123456789012/kc-test-deployers/[0-9a-f-]{36}$`,
      ),
    );
    expect(created.accessEntry?.createdAt).toBeInstanceOf(Date);

    await expect(
      eks.send(new CreateAccessEntryCommand({ clusterName: cluster, principalArn: principal })),
    ).rejects.toBeInstanceOf(ResourceInUseException);

    const associated = await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn: principal,
        policyArn: VIEW,
        accessScope: { type: "namespace", namespaces: ["web"] },
      }),
    );
    expect(associated.associatedAccessPolicy).toMatchObject({
      policyArn: VIEW,
      accessScope: { type: "namespace", namespaces: ["web"] },
    });
    const listed = await eks.send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn: principal }),
    );
    expect(listed.associatedAccessPolicies?.map((p) => p.policyArn)).toEqual([VIEW]);
    const withView = await eks.send(
      new ListAccessEntriesCommand({ clusterName: cluster, associatedPolicyArn: VIEW }),
    );
    expect(withView.accessEntries).toEqual([principal]);

    const updated = await eks.send(
      new UpdateAccessEntryCommand({
        clusterName: cluster,
        principalArn: principal,
        kubernetesGroups: ["viewers"],
      }),
    );
    expect(updated.accessEntry?.kubernetesGroups).toEqual(["viewers"]);

    const access = await adminCall<{
      accessEntries: { principalArn: string; kubernetesGroups: string[]; accessPolicies: unknown[] }[];
    }>(`${sbx.motoUrl}/_sandbox/eks/clusters/${cluster}/access`);
    expect(access.accessEntries.find((e) => e.principalArn === principal)).toMatchObject({
      kubernetesGroups: ["viewers"],
      accessPolicies: [{ policyArn: VIEW, accessScope: { type: "namespace", namespaces: ["web"] } }],
    });

    await eks.send(
      new DisassociateAccessPolicyCommand({ clusterName: cluster, principalArn: principal, policyArn: VIEW }),
    );
    const none = await eks.send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn: principal }),
    );
    expect(none.associatedAccessPolicies).toEqual([]);

    await eks.send(new DeleteAccessEntryCommand({ clusterName: cluster, principalArn: principal }));
    await expect(
      eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn: principal })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("moves the authentication mode one way only, bootstrapping the creator's entry", async () => {
    const name = await createCluster("CONFIG_MAP");
    expect((await eks.send(new ListAccessEntriesCommand({ clusterName: name }))).accessEntries).toEqual([]);
    await eks.send(
      new UpdateClusterConfigCommand({ name, accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" } }),
    );
    const described = (await eks.send(new DescribeClusterCommand({ name }))).cluster!;
    expect(described.accessConfig?.authenticationMode).toBe("API_AND_CONFIG_MAP");
    expect((await eks.send(new ListAccessEntriesCommand({ clusterName: name }))).accessEntries).toHaveLength(
      1,
    );
    await expect(
      eks.send(new UpdateClusterConfigCommand({ name, accessConfig: { authenticationMode: "CONFIG_MAP" } })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await eks.send(new DeleteClusterCommand({ name }));
  });

  it("answers with AWS's errors: unknown cluster, CONFIG_MAP-only cluster", async () => {
    await expect(
      eks.send(new CreateAccessEntryCommand({ clusterName: "kc-test-nope", principalArn: principal })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    const configMapOnly = await createCluster("CONFIG_MAP");
    await expect(
      eks.send(new CreateAccessEntryCommand({ clusterName: configMapOnly, principalArn: principal })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await eks.send(new DeleteClusterCommand({ name: configMapOnly }));
  });
});
