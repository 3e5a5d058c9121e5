import { describe, expect, it } from "vitest";
import { grantFor, parseClusterAccess } from "../../src/sandbox/k8s/access-grants.js";
import { decodeEksToken, principalArnOf, stsTarget } from "../../src/sandbox/k8s/eks-token.js";
import { kubeletRegistrationFromUserData } from "../../src/sandbox/k8s/nodes/user-data.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("kubelet registration from user data", () => {
  it("reads labels and taints from an AL2023 nodeadm NodeConfig in a MIME multipart document", () => {
    const userData = [
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="BOUNDARY"',
      "",
      "--BOUNDARY",
      "Content-Type: text/x-shellscript",
      "",
      "#!/bin/bash\necho hi",
      "--BOUNDARY",
      "Content-Type: application/node.eks.aws",
      "",
      "apiVersion: node.eks.aws/v1alpha1",
      "kind: NodeConfig",
      "spec:",
      "  kubelet:",
      "    config:",
      "      registerWithTaints: [{ key: gpu, effect: NoExecute }]",
      "    flags:",
      "      - --node-labels=a=1,b=two",
      "      - --register-with-taints=dedicated=web:NoSchedule",
      "--BOUNDARY--",
    ].join("\n");
    expect(kubeletRegistrationFromUserData(b64(userData))).toEqual({
      labels: { a: "1", b: "two" },
      taints: [
        { key: "gpu", effect: "NoExecute" },
        { key: "dedicated", value: "web", effect: "NoSchedule" },
      ],
    });
  });

  it("reads the AL2 bootstrap.sh kubelet extra args and invents nothing when there are none", () => {
    const script =
      "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--node-labels=pool=web --register-with-taints=x:NoSchedule'\n";
    expect(kubeletRegistrationFromUserData(b64(script))).toEqual({
      labels: { pool: "web" },
      taints: [{ key: "x", effect: "NoSchedule" }],
    });
    expect(kubeletRegistrationFromUserData(undefined)).toEqual({ labels: {}, taints: [] });
  });
});

describe("EKS tokens", () => {
  const url = (date: string, signed = "host;x-k8s-aws-id") =>
    `https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=${date}&X-Amz-SignedHeaders=${encodeURIComponent(signed)}`;
  const token = (u: string) => `k8s-aws-v1.${Buffer.from(u).toString("base64url")}`;
  const now = new Date("2026-11-25T12:00:00Z");

  it("accepts a fresh token that signs the cluster header, and sends it to moto", () => {
    const decoded = decodeEksToken(token(url("20261125T115500Z")), now);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(stsTarget(decoded.url, "http://127.0.0.1:5000")?.host).toBe("127.0.0.1:5000");
  });

  it("refuses expired tokens, unsigned cluster headers and hosts other than STS", () => {
    expect(decodeEksToken(token(url("20261125T113000Z")), now)).toEqual({
      ok: false,
      reason: "token expired",
    });
    expect(decodeEksToken(token(url("20261125T115500Z", "host")), now).ok).toBe(false);
    expect(
      stsTarget(new URL("https://evil.example/?Action=GetCallerIdentity"), "http://127.0.0.1:5000"),
    ).toBeUndefined();
  });

  it("matches an assumed-role session to its role", () => {
    expect(principalArnOf("arn:aws:sts::123456789012:assumed-role/deployer/ci-42")).toEqual({
      principalArn: "arn:aws:iam::123456789012:role/deployer",
      sessionName: "ci-42",
    });
  });
});

describe("access entries", () => {
  const caller = {
    arn: "arn:aws:sts::123456789012:assumed-role/node-role/i-0abc",
    principalArn: "arn:aws:iam::123456789012:role/node-role",
    sessionName: "i-0abc",
    accountId: "123456789012",
    ec2PrivateDnsName: "ip-10-0-1-5.ec2.internal",
  };

  it("grants nodes their identity, admins system:masters, and nothing without an entry", () => {
    const access = parseClusterAccess({
      bootstrapClusterCreatorAdminPermissions: true,
      creatorArn: "arn:aws:iam::123456789012:user/admin",
      accessEntries: [
        {
          principalArn: "arn:aws:iam::123456789012:role/path/node-role",
          type: "EC2_LINUX",
          accessPolicies: [],
        },
      ],
    });
    expect(grantFor(caller, access)).toMatchObject({
      username: "system:node:ip-10-0-1-5.ec2.internal",
      groups: ["system:bootstrappers", "system:nodes"],
    });
    const creator = {
      arn: "arn:aws:iam::123456789012:user/admin",
      principalArn: "arn:aws:iam::123456789012:user/admin",
      accountId: "123456789012",
    };
    expect(grantFor(creator, access)?.groups).toEqual(["system:masters"]);
    expect(
      grantFor({ ...creator, principalArn: "arn:aws:iam::123456789012:user/other" }, access),
    ).toBeUndefined();
  });

  it("grants a namespace-scoped policy through one group and RoleBinding per namespace", () => {
    const access = parseClusterAccess({
      accessEntries: [
        {
          principalArn: "arn:aws:iam::123456789012:role/dev",
          type: "STANDARD",
          accessPolicies: [
            {
              policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
              accessScope: { type: "namespace", namespaces: ["team-a"] },
            },
          ],
        },
      ],
    });
    const dev = {
      arn: "arn:aws:iam::123456789012:role/dev",
      principalArn: "arn:aws:iam::123456789012:role/dev",
      accountId: "123456789012",
    };
    expect(grantFor(dev, access)).toMatchObject({
      groups: ["sandbox:eks-access-policy:AmazonEKSEditPolicy:team-a"],
      bindings: [
        {
          namespace: "team-a",
          group: "sandbox:eks-access-policy:AmazonEKSEditPolicy:team-a",
          clusterRole: "edit",
        },
      ],
    });
  });
});
