/**
 * What an EKS access entry grants inside the cluster, as the user the token webhook returns.
 * Pure: the entries come from the sandbox's EKS (part 1's admin call), the caller from STS.
 */

export interface AccessPolicy {
  policyArn: string;
  accessScope?: { type?: string; namespaces?: string[] };
}

export interface AccessEntry {
  principalArn: string;
  type: string;
  username?: string;
  kubernetesGroups: string[];
  policies: AccessPolicy[];
}

export interface KubeUser {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
  /** RoleBindings the namespace-scoped policies need (the webhook makes sure they exist). */
  bindings?: NamespaceBinding[];
}

const POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/";

/** The ClusterRole each EKS access policy stands for. */
export const POLICY_CLUSTER_ROLES: Record<string, string> = {
  AmazonEKSClusterAdminPolicy: "cluster-admin",
  AmazonEKSAdminPolicy: "admin",
  AmazonEKSEditPolicy: "edit",
  AmazonEKSViewPolicy: "view",
};

/** A namespace-scoped grant: `group` must be bound to `clusterRole` by a RoleBinding in `namespace`. */
export interface NamespaceBinding {
  namespace: string;
  group: string;
  clusterRole: string;
}

/** The group a namespace-scoped policy grants in one namespace. */
export function namespaceGroup(policyName: string, namespace: string): string {
  return `sandbox:eks-access-policy:${policyName}:${namespace}`;
}

/**
 * Groups an EKS access policy maps to. Cluster scope: system:masters for cluster admin, else a
 * group bound cluster-wide by sandbox/k8s/access-policies.yaml. Namespace scope: one group per
 * namespace, which the returned bindings must bind there.
 */
export function groupsForPolicy(policy: AccessPolicy): { groups: string[]; bindings: NamespaceBinding[] } {
  const name = policy.policyArn.startsWith(POLICY_PREFIX) ? policy.policyArn.slice(POLICY_PREFIX.length) : "";
  const clusterRole = POLICY_CLUSTER_ROLES[name];
  if (!clusterRole) return { groups: [], bindings: [] };
  if ((policy.accessScope?.type ?? "cluster") === "cluster") {
    return {
      groups: [
        name === "AmazonEKSClusterAdminPolicy" ? "system:masters" : `sandbox:eks-access-policy:${name}`,
      ],
      bindings: [],
    };
  }
  const bindings = (policy.accessScope?.namespaces ?? []).map((namespace) => ({
    namespace,
    group: namespaceGroup(name, namespace),
    clusterRole,
  }));
  return { groups: bindings.map((b) => b.group), bindings };
}

/** Compares IAM principals as EKS does: a role matches by account and name, whatever its path. */
export function samePrincipal(a: string, b: string): boolean {
  const norm = (arn: string) => arn.replace(/^(arn:[^:]+:iam::\d+:role\/)(?:.*\/)?([^/]+)$/, "$1$2");
  return norm(a) === norm(b);
}

export interface Caller {
  /** The ARN STS returned (an assumed-role session ARN for roles). */
  arn: string;
  /** The IAM principal (role or user ARN) that access entries name. */
  principalArn: string;
  sessionName?: string;
  accountId: string;
  /** Private DNS name of the EC2 instance whose profile the caller uses, when it is one. */
  ec2PrivateDnsName?: string;
}

/** A cluster's access configuration: its entries, and the creator's implicit admin grant. */
export interface ClusterAccess {
  entries: AccessEntry[];
  creatorArn?: string;
  /** bootstrapClusterCreatorAdminPermissions: the creator is cluster admin without an entry of its own. */
  creatorIsAdmin: boolean;
}

/** The Kubernetes user a caller is, or undefined when nothing grants it access (EKS then denies). */
export function grantFor(caller: Caller, access: ClusterAccess): KubeUser | undefined {
  let entry = access.entries.find((e) => samePrincipal(e.principalArn, caller.principalArn));
  if (
    !entry &&
    access.creatorIsAdmin &&
    access.creatorArn &&
    samePrincipal(access.creatorArn, caller.principalArn)
  ) {
    const policyArn = `${POLICY_PREFIX}AmazonEKSClusterAdminPolicy`;
    entry = {
      principalArn: access.creatorArn,
      type: "STANDARD",
      kubernetesGroups: [],
      policies: [{ policyArn }],
    };
  }
  if (!entry) return undefined;
  const isNode = entry.type === "EC2_LINUX" || entry.type === "EC2_WINDOWS" || entry.type === "HYBRID_LINUX";
  const template = entry.username ?? (isNode ? "system:node:{{EC2PrivateDNSName}}" : defaultUsername(caller));
  const groups = new Set(entry.kubernetesGroups);
  if (isNode) {
    groups.add("system:bootstrappers");
    groups.add("system:nodes");
  }
  const bindings: NamespaceBinding[] = [];
  for (const policy of entry.policies) {
    const granted = groupsForPolicy(policy);
    for (const g of granted.groups) groups.add(g);
    bindings.push(...granted.bindings);
  }
  return {
    username: renderUsername(template, caller),
    uid: `aws-iam-authenticator:${caller.accountId}:${caller.principalArn}`,
    groups: [...groups],
    extra: {
      arn: [caller.arn],
      canonicalArn: [caller.principalArn],
      ...(caller.sessionName ? { sessionName: [caller.sessionName] } : {}),
    },
    ...(bindings.length > 0 ? { bindings } : {}),
  };
}

function defaultUsername(caller: Caller): string {
  return caller.sessionName ? caller.arn.replace(/[^/]+$/, "{{SessionName}}") : caller.principalArn;
}

function renderUsername(template: string, caller: Caller): string {
  return template
    .replaceAll("{{AccountID}}", caller.accountId)
    .replaceAll("{{SessionName}}", (caller.sessionName ?? "").replaceAll("@", "-"))
    .replaceAll("{{SessionNameRaw}}", caller.sessionName ?? "")
    .replaceAll("{{EC2PrivateDNSName}}", caller.ec2PrivateDnsName ?? caller.sessionName ?? "");
}

/**
 * Reads a cluster's access from the sandbox's admin answer (the EKS API's own field names, with
 * the associated policies under one of the names they go by).
 */
export function parseClusterAccess(body: unknown): ClusterAccess {
  const b = (body ?? {}) as {
    accessEntries?: unknown[];
    creatorArn?: unknown;
    bootstrapClusterCreatorAdminPermissions?: unknown;
  };
  const list = Array.isArray(body) ? body : (b.accessEntries ?? []);
  return {
    entries: parseEntries(list),
    ...(typeof b.creatorArn === "string" ? { creatorArn: b.creatorArn } : {}),
    creatorIsAdmin: b.bootstrapClusterCreatorAdminPermissions === true,
  };
}

function parseEntries(list: unknown[]): AccessEntry[] {
  return list.flatMap((raw) => {
    const e = raw as Record<string, unknown>;
    const principalArn = (e.principalArn ?? e.PrincipalArn) as string | undefined;
    if (typeof principalArn !== "string") return [];
    const policies = (e.associatedAccessPolicies ?? e.accessPolicies ?? e.policies ?? []) as AccessPolicy[];
    return [
      {
        principalArn,
        type: (e.type as string | undefined) ?? "STANDARD",
        ...(typeof e.username === "string" ? { username: e.username } : {}),
        kubernetesGroups: (e.kubernetesGroups as string[] | undefined) ?? [],
        policies: Array.isArray(policies) ? policies.filter((p) => typeof p?.policyArn === "string") : [],
      },
    ];
  });
}
