import path from "node:path";
import { z } from "zod";
import {
  CPU_QUANTITY,
  cronProblem,
  DNS_LABEL,
  ENV_NAME,
  IAM_PRINCIPAL_ARN,
  INSTANCE_TYPE,
  isDomainName,
  isPortName,
  MEMORY_QUANTITY,
  parseDuration,
  REGION,
  SECRET_REF,
  TAG_FILTER,
} from "./primitives.js";

/** Kubernetes minor versions an EKS cluster can be created at (EKS standard support). */
export const KUBERNETES_VERSIONS = ["1.31", "1.32", "1.33", "1.34", "1.35"] as const;

const label = (what: string, max: number) =>
  z
    .string({ error: `expected ${what} as a string` })
    .max(max, { error: `expected at most ${max} characters for ${what}` })
    .regex(DNS_LABEL, {
      error: `expected ${what}: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit`,
    });

const port = z
  .number({ error: "expected a port number" })
  .int({ error: "expected a whole port number" })
  .min(1, { error: "expected a port between 1 and 65535" })
  .max(65535, { error: "expected a port between 1 and 65535" });

const count = (what: string, max: number) =>
  z
    .number({ error: `expected ${what} as a number` })
    .int({ error: `expected ${what} as a whole number` })
    .min(0, { error: `expected ${what} ≥ 0` })
    .max(max, { error: `expected ${what} ≤ ${max}` });

const percentage = z
  .number({ error: "expected a percentage" })
  .int({ error: "expected a whole percentage" })
  .min(0, { error: "expected a percentage between 0 and 100" })
  .max(100, { error: "expected a percentage between 0 and 100" });

const duration = z
  .string({ error: 'expected a duration such as "90s", "15m" or "1h30m"' })
  .refine((v) => parseDuration(v) !== undefined, {
    error: 'expected a duration such as "90s", "15m" or "1h30m" (units: ms, s, m, h, d)',
  });

const stringMap = (what: string) =>
  z.record(
    z
      .string()
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/, { error: `expected a valid ${what} key` }),
    z.string({ error: `expected ${what} values to be strings` }).max(1024),
  );

const kubeLabels = z.record(
  z.string().regex(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
    error: "expected a Kubernetes label key ([prefix/]name, name ≤ 63 characters)",
  }),
  z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, {
    error: "expected a Kubernetes label value (≤ 63 characters: letters, digits, '-', '_', '.')",
  }),
);

const spot = z.strictObject({
  onDemandBase: count("onDemandBase", 1000).default(0),
  onDemandPercentAboveBase: percentage.default(0),
  allocation: z
    .enum(
      ["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"],
      {
        error:
          "expected one of price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized, lowest-price",
      },
    )
    .default("price-capacity-optimized"),
});

const taint = z.strictObject({
  key: z.string().regex(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
    error: "expected a taint key ([prefix/]name)",
  }),
  value: z
    .string()
    .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, {
      error:
        "expected a taint value (≤ 63 characters: letters, digits, '-', '_', '.'), as the kubelet takes it",
    })
    .optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
    error: "expected NoSchedule, PreferNoSchedule or NoExecute",
  }),
});

/** One Auto Scaling Group of nodes. */
export const poolSchema = z.strictObject({
  instanceTypes: z
    .array(
      z
        .string()
        .regex(INSTANCE_TYPE, { error: 'expected an EC2 instance type such as "m6i.large" or "c7g.xlarge"' }),
      { error: "expected a list of EC2 instance types" },
    )
    .min(1, { error: "expected at least one instance type" })
    .max(20, { error: "expected at most 20 instance types (the Auto Scaling limit for overrides)" }),
  arch: z.enum(["x86_64", "arm64"], { error: "expected x86_64 or arm64" }).default("x86_64"),
  min: count("min", 1000),
  max: count("max", 1000),
  desired: count("desired", 1000).optional(),
  spot: spot.optional(),
  diskGiB: z
    .number()
    .int()
    .min(20, { error: "expected at least 20 GiB (the EKS AMI's root volume)" })
    .max(16384)
    .default(50),
  labels: kubeLabels.default({}),
  taints: z.array(taint).default([]),
});

const probe = z
  .strictObject({
    httpGet: z
      .strictObject({
        path: z.string().startsWith("/", { error: 'expected a path starting with "/"' }),
        port: z.union([port, z.string()]),
      })
      .optional(),
    tcpSocket: z.strictObject({ port: z.union([port, z.string()]) }).optional(),
    exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
    initialDelaySeconds: count("initialDelaySeconds", 3600).optional(),
    periodSeconds: z.number().int().min(1).max(3600).optional(),
    timeoutSeconds: z.number().int().min(1).max(3600).optional(),
    failureThreshold: z.number().int().min(1).max(100).optional(),
  })
  .refine((p) => [p.httpGet, p.tcpSocket, p.exec].filter(Boolean).length === 1, {
    error: "expected exactly one of httpGet, tcpSocket or exec",
  });

const containerPort = z.strictObject({
  name: z.string().refine(isPortName, {
    error: "expected a port name: ≤ 15 lower-case letters, digits and '-', with at least one letter",
  }),
  containerPort: port,
  protocol: z.enum(["TCP", "UDP"]).default("TCP"),
});

const container = z.strictObject({
  name: label("a container name", 63),
  /** "app" means the app's own image at the deployed version; anything else is an image reference. */
  image: z
    .string()
    .min(1)
    .regex(/^[a-z0-9][\w./:@-]*$/i, { error: 'expected "app" or an image reference' }),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(containerPort).default([]),
  env: z
    .record(
      z.string().regex(ENV_NAME, { error: "expected an environment variable name (letters, digits, '_')" }),
      z.string({ error: "expected env values to be strings" }),
    )
    .default({}),
  envFromSecrets: z
    .record(
      z.string().regex(ENV_NAME, { error: "expected an environment variable name (letters, digits, '_')" }),
      z.string().regex(SECRET_REF, {
        error: 'expected "secret-name#json-key" naming a Secrets Manager secret and a key in it',
      }),
    )
    .default({}),
  resources: z
    .strictObject({
      cpu: z.string().regex(CPU_QUANTITY, { error: 'expected a CPU quantity such as "250m" or "2"' }),
      memory: z
        .string()
        .regex(MEMORY_QUANTITY, { error: 'expected a memory quantity such as "512Mi" or "2Gi"' }),
      cpuLimit: z
        .string()
        .regex(CPU_QUANTITY, { error: 'expected a CPU quantity such as "250m" or "2"' })
        .optional(),
      memoryLimit: z
        .string()
        .regex(MEMORY_QUANTITY, { error: 'expected a memory quantity such as "512Mi"' })
        .optional(),
    })
    .optional(),
  readiness: probe.optional(),
  liveness: probe.optional(),
});

const component = z.strictObject({
  pool: z.string({ error: "expected the name of a hardware pool" }),
  replicas: count("replicas", 1000),
  containers: z
    .array(container, { error: "expected a list of containers" })
    .min(1, { error: "expected at least one container" }),
  maxSurge: z.union([count("maxSurge", 1000), z.string().regex(/^\d{1,3}%$/)]).default("25%"),
  maxUnavailable: z.union([count("maxUnavailable", 1000), z.string().regex(/^\d{1,3}%$/)]).default(0),
  disruptionBudget: z
    .strictObject({
      maxUnavailable: z.union([count("maxUnavailable", 1000), z.string().regex(/^\d{1,3}%$/)]),
    })
    .optional(),
  config: stringMap("ConfigMap").optional(),
  labels: kubeLabels.default({}),
});

const listener = z.strictObject({
  port,
  protocol: z.enum(["HTTP", "HTTPS", "TCP", "TLS"], { error: "expected HTTP, HTTPS, TCP or TLS" }),
  /** Domain of the ACM certificate to serve (HTTPS and TLS listeners). */
  certificate: z
    .string()
    .refine((d) => isDomainName(d, { wildcard: true }), {
      error: 'expected a certificate domain such as "webapp.example.com"',
    })
    .optional(),
});

const loadBalancer = z.strictObject({
  type: z
    .enum(["application", "network"], { error: "expected application or network" })
    .default("application"),
  scheme: z
    .enum(["internet-facing", "internal"], { error: "expected internet-facing or internal" })
    .default("internet-facing"),
  healthCheckPath: z.string().startsWith("/", { error: 'expected a path starting with "/"' }).default("/"),
  listeners: z.array(listener).min(1, { error: "expected at least one listener" }),
});

const service = z.strictObject({
  component: z.string({ error: "expected the name of a component" }),
  port,
  targetPort: z.union([port, z.string().refine(isPortName, { error: "expected a container port name" })]),
  nodePort: z
    .number()
    .int()
    .min(30000, { error: "expected a node port in 30000-32767" })
    .max(32767, { error: "expected a node port in 30000-32767" })
    .optional(),
  loadBalancer: loadBalancer.optional(),
});

/** A relative path that stays inside the project (no absolute path, no `..` out of it). */
function insideProject(what: string) {
  return z
    .string()
    .refine(
      (p) =>
        p !== "" &&
        !/^([/\\]|[A-Za-z]:)/.test(p) &&
        !path.posix.normalize(p.replaceAll("\\", "/")).startsWith(".."),
      { error: (iss) => `expected ${what} inside the project, found "${String(iss.input)}"` },
    );
}

const httpCheck = z.strictObject({
  service: z.string(),
  path: z.string().startsWith("/", { error: 'expected a path starting with "/"' }),
  expectStatus: z.number().int().min(100).max(599).default(200),
  timeout: duration.default("5s"),
});

const vpcSelector = z.union(
  [
    z.strictObject({ tag: z.string().regex(TAG_FILTER, { error: 'expected a tag filter "key=value"' }) }),
    z.strictObject({
      id: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'expected a VPC id such as "vpc-0abc12345"' }),
    }),
  ],
  { error: 'expected { tag: "key=value" } or { id: "vpc-..." }' },
);

/** The KubeApp spec, as written in apps/*.ts (before company defaults are applied). */
export const kubeAppSchema = z.strictObject({
  apiVersion: z.literal("kubecontrol/v1", { error: 'expected "kubecontrol/v1"' }).default("kubecontrol/v1"),
  name: label("an app name", 40),
  owner: z.string({ error: "expected the owning team's name" }).min(1).max(128),
  description: z.string().max(1024).optional(),
  region: z.string().regex(REGION, { error: 'expected an AWS region such as "us-east-1"' }).optional(),
  cluster: z
    .strictObject({
      kubernetesVersion: z
        .enum(KUBERNETES_VERSIONS, { error: `expected one of ${KUBERNETES_VERSIONS.join(", ")}` })
        .default("1.34"),
      endpointAccess: z
        .enum(["public", "private", "public-and-private"], {
          error: "expected public, private or public-and-private",
        })
        .default("public-and-private"),
      admins: z
        .array(z.string().regex(IAM_PRINCIPAL_ARN, { error: "expected an IAM role or user ARN" }))
        .default([]),
    })
    .default({ kubernetesVersion: "1.34", endpointAccess: "public-and-private", admins: [] }),
  network: z.strictObject({ vpc: vpcSelector }).optional(),
  hardware: z
    .record(label("a pool name", 20), poolSchema, { error: "expected an object of pools" })
    .refine((h) => Object.keys(h).length > 0, { error: "expected at least one pool" }),
  image: z.strictObject({
    repository: z
      .string()
      .min(2)
      .max(200)
      .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, {
        error: "expected an ECR repository name",
      }),
    context: insideProject("the build context, relative to the source").default("."),
    dockerfile: insideProject("the Dockerfile, relative to the build context").default("Dockerfile"),
    source: z
      .union(
        [
          z.strictObject({ path: z.string() }),
          z.strictObject({ git: z.string().min(1), branch: z.string().optional() }),
        ],
        { error: 'expected { path: "." } or { git: "<remote url>" }' },
      )
      .default({ path: "." }),
    builder: z.enum(["buildah", "codebuild"], { error: "expected buildah or codebuild" }).optional(),
    buildArgs: stringMap("build argument").default({}),
    codeBuild: z
      .strictObject({
        /** How CodeBuild reads a private repository: a connection, or a secret holding a token. */
        sourceCredentials: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
            { error: "expected the ARN of a CodeConnections connection or of a Secrets Manager secret" },
          )
          .optional(),
      })
      .optional(),
  }),
  components: z
    .record(label("a component name", 40), component, { error: "expected an object of components" })
    .refine((c) => Object.keys(c).length > 0, { error: "expected at least one component" }),
  services: z.record(label("a service name", 40), service).default({}),
  dns: z
    .strictObject({
      zone: z.string().refine((d) => isDomainName(d), { error: 'expected a DNS zone such as "example.com"' }),
      record: z
        .string()
        .refine((d) => isDomainName(d), { error: 'expected a DNS name such as "webapp.example.com"' })
        .optional(),
      ttl: z.number().int().min(0).max(86400).default(60),
    })
    .optional(),
  deploy: z
    .strictObject({
      strategy: z
        .enum(["blue-green", "rolling"], { error: "expected blue-green or rolling" })
        .default("blue-green"),
      schedule: z
        .string()
        .refine((c) => cronProblem(c) === undefined, {
          error: (iss) => `expected a cron expression: ${cronProblem(String(iss.input))}`,
        })
        .optional(),
      keepOldColourFor: duration.default("0s"),
      dnsSteps: z.array(percentage).optional(),
      verify: z
        .strictObject({
          http: z.array(httpCheck).default([]),
          hook: z
            .string()
            .regex(/\.(ts|mts|js|mjs)$/, { error: "expected a path to a .ts or .js module" })
            .optional(),
          timeout: duration.default("10m"),
        })
        .default({ http: [], timeout: "10m" }),
    })
    .default({ strategy: "blue-green", keepOldColourFor: "0s", verify: { http: [], timeout: "10m" } }),
  addons: z
    .strictObject({ metrics: z.boolean().default(true), logging: z.boolean().default(true) })
    .default({ metrics: true, logging: true }),
  labels: kubeLabels.default({}),
});

/** What an author writes: optional fields may be left out. */
export type KubeAppInput = z.input<typeof kubeAppSchema>;
/** A parsed spec: schema defaults filled in, company defaults not yet applied. */
export type KubeAppParsed = z.output<typeof kubeAppSchema>;
export type Pool = z.output<typeof poolSchema>;
export type Component = KubeAppParsed["components"][string];
export type Container = Component["containers"][number];
export type Service = KubeAppParsed["services"][string];
export type LoadBalancerSpec = NonNullable<Service["loadBalancer"]>;
