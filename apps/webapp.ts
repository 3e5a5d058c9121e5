import { defineKubeApp } from "kubecontrol";

/** A web tier and a worker tier on two pools, the workers mostly on spot capacity. */
export default defineKubeApp({
  name: "webapp",
  owner: "team-web",
  region: "us-east-1",
  cluster: {
    kubernetesVersion: "1.34",
    endpointAccess: "public-and-private",
    admins: ["arn:aws:iam::123456789012:role/deployers"],
  },
  network: { vpc: { tag: "kubecontrol:vpc=main" } },
  hardware: {
    web: {
      instanceTypes: ["m6i.large", "m5.large"],
      arch: "x86_64",
      min: 2,
      max: 10,
      desired: 3,
      spot: { onDemandBase: 1, onDemandPercentAboveBase: 25, allocation: "price-capacity-optimized" },
    },
    worker: {
      instanceTypes: ["c6i.xlarge", "c5.xlarge"],
      min: 1,
      max: 4,
      desired: 2,
      spot: { onDemandBase: 0, onDemandPercentAboveBase: 0, allocation: "capacity-optimized" },
      labels: { workload: "batch" },
      taints: [{ key: "workload", value: "batch", effect: "NoSchedule" }],
    },
  },
  image: { repository: "webapp", context: "apps/webapp", dockerfile: "Dockerfile", source: { path: "." } },
  components: {
    web: {
      pool: "web",
      replicas: 3,
      containers: [
        {
          name: "web",
          image: "app",
          ports: [{ name: "http", containerPort: 8080 }],
          env: { LOG_LEVEL: "info" },
          envFromSecrets: { DB_PASSWORD: "webapp/db#password" },
          resources: { cpu: "500m", memory: "512Mi" },
          readiness: { httpGet: { path: "/healthz", port: 8080 } },
        },
      ],
    },
    worker: {
      pool: "worker",
      replicas: 2,
      containers: [
        {
          name: "worker",
          image: "app",
          command: ["worker"],
          envFromSecrets: { DB_PASSWORD: "webapp/db#password" },
          resources: { cpu: "1", memory: "1Gi" },
        },
      ],
    },
  },
  services: {
    web: {
      component: "web",
      port: 80,
      targetPort: 8080,
      loadBalancer: {
        type: "application",
        scheme: "internet-facing",
        healthCheckPath: "/healthz",
        listeners: [
          { port: 443, protocol: "HTTPS", certificate: "webapp.example.com" },
          { port: 80, protocol: "HTTP" },
        ],
      },
    },
  },
  dns: { zone: "example.com", record: "webapp.example.com", ttl: 60 },
  deploy: {
    strategy: "blue-green",
    schedule: "0 */6 * * *",
    keepOldColourFor: "1h",
    verify: { http: [{ service: "web", path: "/healthz", expectStatus: 200 }], hook: "./webapp.verify.ts" },
  },
});
