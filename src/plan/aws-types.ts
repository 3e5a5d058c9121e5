/**
 * The desired AWS resources of one app and colour. Names are final AWS names; references to
 * other resources are logical ids (`kind/key`), resolved to ARNs and ids by the steps that
 * create them, because a pure plan cannot know the account's ids.
 */

/** App-scoped resources outlive colours and go only with `destroy`; colour-scoped go with their colour. */
export type Scope = "app" | "colour";

/** The logical id of a resource of kind K: `<kind>/<key>`. */
export type ResourceId<K extends string = string> = `${K}/${string}`;

interface Base<K extends string, P> {
  kind: K;
  /** Logical id, unique within a plan: `<kind>/<key>`. */
  id: ResourceId<K>;
  /** The AWS name (or identifier) the resource is found by. */
  name: string;
  scope: Scope;
  tags: Record<string, string>;
  /** Logical ids this resource needs before it can be made. */
  dependsOn: string[];
  properties: P;
}

export type IamRole = Base<
  "iam-role",
  {
    service: "eks.amazonaws.com" | "ec2.amazonaws.com" | "codebuild.amazonaws.com";
    managedPolicies: string[];
    purpose: "cluster" | "node" | "image-build";
    /** Inline policies by name: a document to hold, or null for one the role must not have. */
    inlinePolicies?: Record<string, string | null>;
  }
>;
export type InstanceProfile = Base<"iam-instance-profile", { role: ResourceId<"iam-role"> }>;

export interface IngressRule {
  protocol: "tcp" | "-1";
  fromPort: number;
  toPort: number;
  /** Another group (logical id), a CIDR, the group itself, or the VPC's own CIDR blocks (found at run time). */
  source: { group: ResourceId<"security-group"> } | { cidr: string } | { self: true } | { vpc: true };
  description: string;
}
export type SecurityGroup = Base<
  "security-group",
  { purpose: "lb" | "nodes" | "cluster"; ingress: IngressRule[] }
>;

export type EksCluster = Base<
  "eks-cluster",
  {
    kubernetesVersion: string;
    role: ResourceId<"iam-role">;
    securityGroups: ResourceId<"security-group">[];
    subnets: "private-and-public";
    endpointPublicAccess: boolean;
    endpointPrivateAccess: boolean;
    authenticationMode: "API";
    /** Off, so that access is exactly what the spec grants. */
    bootstrapClusterCreatorAdminPermissions: false;
  }
>;

export type AccessEntry = Base<
  "eks-access-entry",
  {
    cluster: ResourceId<"eks-cluster">;
    /** An IAM ARN, or the logical id of a role of this plan. */
    principal: { arn: string } | { role: ResourceId<"iam-role"> };
    type: "EC2_LINUX" | "STANDARD";
    policies: { policyArn: string; accessScope: { type: "cluster" } }[];
  }
>;

export type LaunchTemplate = Base<
  "launch-template",
  {
    pool: string;
    cluster: ResourceId<"eks-cluster">;
    /** SSM parameter that names the EKS-optimized AMI for this Kubernetes version, architecture and variant. */
    amiParameter: string;
    arch: "x86_64" | "arm64";
    diskGiB: number;
    instanceProfile: ResourceId<"iam-instance-profile">;
    securityGroups: ResourceId<"security-group">[];
    /** Given to the kubelet (--node-labels / --register-with-taints) through the node configuration. */
    nodeLabels: Record<string, string>;
    nodeTaints: { key: string; value?: string; effect: string }[];
  }
>;

export type AutoScalingGroup = Base<
  "auto-scaling-group",
  {
    pool: string;
    launchTemplate: ResourceId<"launch-template">;
    subnets: "private";
    min: number;
    max: number;
    /** Set at creation only: afterwards it belongs to the operator or an autoscaler. */
    desired: number;
    instanceTypes: string[];
    onDemandBase: number;
    onDemandPercentAboveBase: number;
    allocation: string;
    capacityRebalance: true;
    targetGroups: ResourceId<"target-group">[];
  }
>;

export type EcrRepository = Base<
  "ecr-repository",
  { scanOnPush: true; keepImages: number; tagMutability: "IMMUTABLE" }
>;

export type LoadBalancer = Base<
  "load-balancer",
  {
    type: "application" | "network";
    scheme: "internet-facing" | "internal";
    securityGroups: ResourceId<"security-group">[];
    subnets: "public" | "private";
  }
>;

export type TargetGroup = Base<
  "target-group",
  {
    service: string;
    port: number;
    protocol: "HTTP" | "TCP";
    healthCheckPath: string | undefined;
    targetType: "instance";
  }
>;

export type Listener = Base<
  "listener",
  {
    loadBalancer: ResourceId<"load-balancer">;
    port: number;
    protocol: "HTTP" | "HTTPS" | "TCP" | "TLS";
    certificateDomain?: string;
    /** The listener's TLS policy (HTTPS and TLS listeners): TLS 1.2 and later, 1.3 preferred. */
    sslPolicy?: string;
    targetGroup: ResourceId<"target-group">;
  }
>;

export type DnsRecord = Base<
  "route53-record",
  {
    zone: string;
    record: string;
    setIdentifier: string;
    /** CNAME with the spec's TTL, or an alias A record at a zone apex (Route 53 fixes its TTL). */
    type: "CNAME" | "ALIAS_A";
    ttl: number;
    loadBalancer: ResourceId<"load-balancer">;
    /** Applied only after verification, by its own step with an explicit weight. */
    afterVerify: true;
  }
>;

export type AwsResource =
  | IamRole
  | InstanceProfile
  | SecurityGroup
  | EksCluster
  | AccessEntry
  | LaunchTemplate
  | AutoScalingGroup
  | EcrRepository
  | LoadBalancer
  | TargetGroup
  | Listener
  | DnsRecord;

export type AwsKind = AwsResource["kind"];
