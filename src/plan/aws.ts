import { type Accelerator, instanceTypeAccelerator } from "../spec/primitives.js";
import type { ResolvedKubeApp } from "../spec/resolve.js";
import type {
  AccessEntry,
  AutoScalingGroup,
  AwsResource,
  DnsRecord,
  IngressRule,
  LaunchTemplate,
  Listener,
  ResourceId,
  SecurityGroup,
  TargetGroup,
} from "./aws-types.js";
import { type Colour, namesFor } from "./names.js";

/** Tag keys every kubecontrol resource carries (DESIGN.md, principle 1). */
export const TAG = {
  app: "kubecontrol:app",
  colour: "kubecontrol:colour",
  owner: "kubecontrol:owner",
  /** Set once at creation with the run id; never compared, so a re-run stays a no-op. */
  createdBy: "kubecontrol:created-by",
} as const;

/** Label the pool's launch template gives its kubelet, and Deployments select their nodes by. */
export const POOL_LABEL = "kubecontrol.io/pool";

/** The EKS access policy that makes a principal cluster admin. */
export const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/**
 * The TLS policy of HTTPS and TLS listeners: TLS 1.3 and 1.2 only, with forward-secret ciphers
 * (AWS's recommended policy; without one, a listener gets ELBSecurityPolicy-2016-08, which
 * still speaks TLS 1.0 and 1.1).
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * The EKS-optimized AL2023 variant a pool's nodes boot: `nvidia` or `neuron` for accelerated
 * types (validation keeps a pool's types to one kind), `standard` otherwise.
 */
export function amiVariant(instanceTypes: readonly string[]): "standard" | Accelerator {
  return instanceTypes.map(instanceTypeAccelerator).find((a) => a !== undefined) ?? "standard";
}

/** The desired AWS resources of one colour of an app, plus the app-scoped ones, in dependency order. */
export function planAwsResources(
  app: ResolvedKubeApp,
  colour: Colour,
  nodePorts: Record<string, number>,
): AwsResource[] {
  const n = namesFor(app.name, colour);
  const appTags = { [TAG.app]: app.name, [TAG.owner]: app.owner };
  const colourTags = { ...appTags, [TAG.colour]: colour };
  const out: AwsResource[] = [];

  out.push(
    {
      kind: "iam-role",
      id: "iam-role/cluster",
      name: n.clusterRole,
      scope: "app",
      tags: appTags,
      dependsOn: [],
      properties: {
        service: "eks.amazonaws.com",
        purpose: "cluster",
        managedPolicies: ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
      },
    },
    {
      kind: "iam-role",
      id: "iam-role/node",
      name: n.nodeRole,
      scope: "app",
      tags: appTags,
      dependsOn: [],
      properties: {
        service: "ec2.amazonaws.com",
        purpose: "node",
        managedPolicies: [
          "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
          "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
          "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
          "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
        ],
      },
    },
    {
      kind: "iam-instance-profile",
      id: "iam-instance-profile/node",
      name: n.nodeInstanceProfile,
      scope: "app",
      tags: appTags,
      dependsOn: ["iam-role/node"],
      properties: { role: "iam-role/node" },
    },
    {
      kind: "ecr-repository",
      id: "ecr-repository/app",
      name: app.image.repository,
      scope: "app",
      tags: appTags,
      dependsOn: [],
      properties: { scanOnPush: true, keepImages: app.keepImages, tagMutability: "IMMUTABLE" },
    },
  );

  const balanced = Object.entries(app.services).filter(([, s]) => s.loadBalancer);
  out.push(...securityGroups(app, colour, colourTags, nodePorts));

  out.push({
    kind: "eks-cluster",
    id: "eks-cluster/main",
    name: n.cluster,
    scope: "colour",
    tags: colourTags,
    dependsOn: ["iam-role/cluster", "security-group/cluster"],
    properties: {
      kubernetesVersion: app.cluster.kubernetesVersion,
      role: "iam-role/cluster",
      securityGroups: ["security-group/cluster"],
      subnets: "private-and-public",
      endpointPublicAccess: app.cluster.endpointAccess !== "private",
      endpointPrivateAccess: app.cluster.endpointAccess !== "public",
      authenticationMode: "API",
      bootstrapClusterCreatorAdminPermissions: false,
    },
  });
  out.push(...accessEntries(app, colourTags));

  const targetGroups: TargetGroup[] = balanced.map(([svcName, svc]) => ({
    kind: "target-group",
    id: `target-group/${svcName}`,
    name: n.targetGroup(svcName),
    scope: "colour",
    tags: { ...colourTags, "kubecontrol:service": svcName },
    dependsOn: [],
    properties: {
      service: svcName,
      port: nodePorts[svcName]!,
      protocol: svc.loadBalancer!.type === "application" ? "HTTP" : "TCP",
      healthCheckPath:
        svc.loadBalancer!.type === "application" ? svc.loadBalancer!.healthCheckPath : undefined,
      targetType: "instance",
    },
  }));

  for (const [pool, spec] of Object.entries(app.hardware)) {
    const lt: LaunchTemplate = {
      kind: "launch-template",
      id: `launch-template/${pool}`,
      name: n.launchTemplate(pool),
      scope: "colour",
      tags: { ...colourTags, "kubecontrol:pool": pool },
      dependsOn: ["eks-cluster/main", "iam-instance-profile/node", "security-group/nodes"],
      properties: {
        pool,
        cluster: "eks-cluster/main",
        amiParameter: `/aws/service/eks/optimized-ami/${app.cluster.kubernetesVersion}/amazon-linux-2023/${spec.arch}/${amiVariant(spec.instanceTypes)}/recommended/image_id`,
        arch: spec.arch,
        diskGiB: spec.diskGiB,
        instanceProfile: "iam-instance-profile/node",
        securityGroups: ["security-group/nodes"],
        nodeLabels: { ...spec.labels, [POOL_LABEL]: pool },
        nodeTaints: spec.taints,
      },
    };
    const servedHere = balanced
      .filter(([, svc]) => app.components[svc.component]?.pool === pool)
      .map(([svcName]): ResourceId<"target-group"> => `target-group/${svcName}`);
    const asg: AutoScalingGroup = {
      kind: "auto-scaling-group",
      id: `auto-scaling-group/${pool}`,
      name: n.autoScalingGroup(pool),
      scope: "colour",
      tags: { ...colourTags, "kubecontrol:pool": pool, [`kubernetes.io/cluster/${n.cluster}`]: "owned" },
      dependsOn: [lt.id, "eks-access-entry/node", ...servedHere],
      properties: {
        pool,
        launchTemplate: lt.id,
        subnets: "private",
        min: spec.min,
        max: spec.max,
        desired: spec.desired,
        instanceTypes: spec.instanceTypes,
        onDemandBase: spec.spot ? spec.spot.onDemandBase : spec.max,
        onDemandPercentAboveBase: spec.spot ? spec.spot.onDemandPercentAboveBase : 100,
        allocation: spec.spot?.allocation ?? "price-capacity-optimized",
        capacityRebalance: true,
        targetGroups: servedHere,
      },
    };
    out.push(lt, asg);
  }

  if (balanced.length > 0) {
    const [svcName, svc] = balanced[0]!;
    const lb = svc.loadBalancer!;
    out.push({
      kind: "load-balancer",
      id: "load-balancer/main",
      name: n.loadBalancer,
      scope: "colour",
      tags: colourTags,
      dependsOn: lb.type === "application" ? ["security-group/lb"] : [],
      properties: {
        type: lb.type,
        scheme: lb.scheme,
        securityGroups: lb.type === "application" ? ["security-group/lb"] : [],
        subnets: lb.scheme === "internet-facing" ? "public" : "private",
      },
    });
    out.push(...targetGroups);
    for (const l of lb.listeners) {
      const listener: Listener = {
        kind: "listener",
        id: `listener/${l.port}`,
        name: `${n.loadBalancer}:${l.port}`,
        scope: "colour",
        tags: colourTags,
        dependsOn: ["load-balancer/main", `target-group/${svcName}`],
        properties: {
          loadBalancer: "load-balancer/main",
          port: l.port,
          protocol: l.protocol,
          ...(l.certificate ? { certificateDomain: l.certificate } : {}),
          ...(l.protocol === "HTTPS" || l.protocol === "TLS" ? { sslPolicy: TLS_POLICY } : {}),
          targetGroup: `target-group/${svcName}`,
        },
      };
      out.push(listener);
    }
    if (app.dns) {
      const record: DnsRecord = {
        kind: "route53-record",
        id: "route53-record/main",
        name: `${app.dns.record}/${n.recordSetIdentifier}`,
        scope: "colour",
        tags: {},
        dependsOn: ["load-balancer/main"],
        properties: {
          zone: app.dns.zone,
          record: app.dns.record,
          setIdentifier: n.recordSetIdentifier,
          type: app.dns.record === app.dns.zone ? "ALIAS_A" : "CNAME",
          ttl: app.dns.ttl,
          loadBalancer: "load-balancer/main",
          afterVerify: true,
        },
      };
      out.push(record);
    }
  }
  return out;
}

function securityGroups(
  app: ResolvedKubeApp,
  colour: Colour,
  tags: Record<string, string>,
  nodePorts: Record<string, number>,
): SecurityGroup[] {
  const n = namesFor(app.name, colour);
  const lbService = Object.values(app.services).find((s) => s.loadBalancer);
  const nodeIngress: IngressRule[] = [
    { protocol: "-1", fromPort: -1, toPort: -1, source: { self: true }, description: "node to node" },
    {
      protocol: "tcp",
      fromPort: 443,
      toPort: 443,
      source: { group: "security-group/cluster" },
      description: "control plane to kubelet webhooks",
    },
    {
      protocol: "tcp",
      fromPort: 10250,
      toPort: 10250,
      source: { group: "security-group/cluster" },
      description: "control plane to kubelet",
    },
  ];
  for (const [svcName, svc] of Object.entries(app.services)) {
    if (!svc.loadBalancer) continue;
    const port = nodePorts[svcName]!;
    const source =
      svc.loadBalancer.type === "application"
        ? { group: "security-group/lb" as const }
        : { cidr: "0.0.0.0/0" };
    nodeIngress.push({
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      source,
      description: `load balancer to ${svcName} node port`,
    });
  }
  const groups: SecurityGroup[] = [
    {
      kind: "security-group",
      id: "security-group/cluster",
      name: n.securityGroup("cluster"),
      scope: "colour",
      tags,
      dependsOn: [],
      properties: {
        purpose: "cluster",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            source: { group: "security-group/nodes" },
            description: "nodes to the API server",
          },
        ],
      },
    },
    {
      kind: "security-group",
      id: "security-group/nodes",
      name: n.securityGroup("nodes"),
      scope: "colour",
      tags,
      dependsOn: [],
      properties: { purpose: "nodes", ingress: nodeIngress },
    },
  ];
  if (lbService?.loadBalancer?.type === "application") {
    groups.push({
      kind: "security-group",
      id: "security-group/lb",
      name: n.securityGroup("lb"),
      scope: "colour",
      tags,
      dependsOn: [],
      properties: {
        purpose: "lb",
        ingress: lbService.loadBalancer.listeners.map((l) => ({
          protocol: "tcp" as const,
          fromPort: l.port,
          toPort: l.port,
          // an internal load balancer's clients are in its VPC, whatever ranges the VPC has
          source:
            lbService.loadBalancer!.scheme === "internet-facing"
              ? { cidr: "0.0.0.0/0" }
              : { vpc: true as const },
          description: `clients to listener ${l.port}`,
        })),
      },
    });
  }
  return groups;
}

function accessEntries(app: ResolvedKubeApp, tags: Record<string, string>): AccessEntry[] {
  const entries: AccessEntry[] = [
    {
      kind: "eks-access-entry",
      id: "eks-access-entry/node",
      name: "node-role",
      scope: "colour",
      tags,
      dependsOn: ["eks-cluster/main", "iam-role/node"],
      properties: {
        cluster: "eks-cluster/main",
        principal: { role: "iam-role/node" },
        type: "EC2_LINUX",
        policies: [],
      },
    },
  ];
  app.cluster.admins.forEach((arn, i) => {
    entries.push({
      kind: "eks-access-entry",
      id: `eks-access-entry/admin-${i}`,
      name: arn,
      scope: "colour",
      tags,
      dependsOn: ["eks-cluster/main"],
      properties: {
        cluster: "eks-cluster/main",
        principal: { arn },
        type: "STANDARD",
        policies: [{ policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: "cluster" } }],
      },
    });
  });
  return entries;
}
