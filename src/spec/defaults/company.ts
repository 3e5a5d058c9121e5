/**
 * Company defaults: what every KubeApp gets unless it says otherwise. This is the shared code
 * that keeps sixty apps consistent; change it here, not in each app.
 */
export const companyDefaults = {
  /** Region used when neither the spec nor the operator configuration names one. */
  region: "us-east-1",
  /** Zone of the default DNS record `<app>.<zone>`. */
  dnsZone: "example.com",
  dnsTtl: 60,
  /** The VPC apps deploy into, found by tag; subnets by the usual role tags (kubernetes.io/role/elb, internal-elb). */
  network: { vpc: { tag: "kubecontrol:vpc=main" } },
  /** EKS-optimized AMI family for node launch templates. */
  amiFamily: "amazon-linux-2023" as const,
  /** Images of the company's add-on pods (metrics and logging), pinned. */
  addonImages: {
    logging: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
    metrics: "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
  },
  /** How many images the app's ECR repository keeps (lifecycle policy). */
  keepImages: 30,
};

export type CompanyDefaults = typeof companyDefaults;
