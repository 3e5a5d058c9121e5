import { defineKubeApp } from "kubecontrol";

/** The smallest useful KubeApp: one component behind one load-balanced service. */
export default defineKubeApp({
  name: "hello",
  owner: "team-platform",
  region: "us-east-1",
  hardware: {
    general: { instanceTypes: ["t3.medium", "t3a.medium"], min: 1, max: 3, desired: 2 },
  },
  image: { repository: "hello", context: "apps/hello" },
  components: {
    web: {
      pool: "general",
      replicas: 2,
      containers: [
        {
          name: "web",
          image: "app",
          ports: [{ name: "http", containerPort: 8080 }],
          resources: { cpu: "50m", memory: "32Mi" },
          readiness: { httpGet: { path: "/healthz", port: 8080 } },
        },
      ],
    },
  },
  services: {
    web: {
      component: "web",
      port: 80,
      targetPort: "http",
      loadBalancer: { healthCheckPath: "/healthz", listeners: [{ port: 80, protocol: "HTTP" }] },
    },
  },
  dns: { zone: "example.com", record: "hello.example.com", ttl: 60 },
});
