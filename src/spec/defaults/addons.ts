import type { Component } from "../schema.js";
import { companyDefaults } from "./company.js";

/** A company workload added to every app that has not opted out. */
export interface AddonWorkload {
  name: string;
  kind: "DaemonSet" | "Deployment";
  component: Component;
  /** Files for the add-on's ConfigMap. */
  config: Record<string, string>;
  /** Host paths mounted read-only (log files on the node). */
  hostPaths: Record<string, string>;
  /**
   * What the add-on may read through the Kubernetes API, in the app's namespace: it then runs as
   * a ServiceAccount of its own (named after it) with a token, bound to a Role of these rules.
   */
  rbac?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

/** The logging DaemonSet: ships container logs from every node to CloudWatch Logs, group /kubecontrol/<app>. */
export function loggingAddon(app: string, region: string, firstPool: string): AddonWorkload {
  return {
    name: "log-router",
    kind: "DaemonSet",
    component: {
      pool: firstPool,
      replicas: 1,
      maxSurge: 0,
      maxUnavailable: 1,
      labels: {},
      containers: [
        {
          name: "fluent-bit",
          image: companyDefaults.addonImages.logging,
          ports: [{ name: "metrics", containerPort: 2020, protocol: "TCP" }],
          env: { AWS_REGION: region, LOG_GROUP: `/kubecontrol/${app}` },
          envFromSecrets: {},
          resources: { cpu: "50m", memory: "64Mi", memoryLimit: "128Mi" },
          readiness: { httpGet: { path: "/api/v1/health", port: 2020 } },
        },
      ],
    },
    config: {
      "fluent-bit.conf": [
        "[SERVICE]",
        "    HTTP_Server On",
        "    HTTP_Port 2020",
        "    Health_Check On",
        "[INPUT]",
        "    Name tail",
        "    Path /var/log/containers/*.log",
        "    multiline.parser docker, cri",
        "[OUTPUT]",
        "    Name cloudwatch_logs",
        "    Match *",
        `    region ${region}`,
        `    log_group_name /kubecontrol/${app}`,
        // fluent-bit expands ${HOSTNAME} itself.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a fluent-bit variable, not a JS template
        "    log_stream_prefix ${HOSTNAME}-",
        "    auto_create_group true",
        "",
      ].join("\n"),
    },
    hostPaths: { varlog: "/var/log" },
  };
}

/**
 * The metrics agent: scrapes the app's pods, found through the Kubernetes API, and sends to the
 * company's metrics backend. It runs on `pool`, one whose nodes have no taints it would need to
 * tolerate.
 */
export function metricsAddon(app: string, region: string, pool: string): AddonWorkload {
  return {
    name: "metrics-agent",
    kind: "Deployment",
    component: {
      pool,
      replicas: 1,
      maxSurge: 1,
      maxUnavailable: 0,
      labels: {},
      containers: [
        {
          name: "otel-collector",
          image: companyDefaults.addonImages.metrics,
          args: ["--config=/etc/addon/config.yaml"],
          ports: [{ name: "health", containerPort: 13133, protocol: "TCP" }],
          env: { AWS_REGION: region, KUBECONTROL_APP: app },
          envFromSecrets: {},
          resources: { cpu: "100m", memory: "128Mi", memoryLimit: "256Mi" },
          readiness: { httpGet: { path: "/", port: 13133 } },
        },
      ],
    },
    config: {
      "config.yaml": [
        "receivers:",
        "  prometheus:",
        "    config:",
        "      scrape_configs:",
        `        - job_name: ${app}`,
        `          kubernetes_sd_configs: [{ role: pod, namespaces: { names: [${app}] } }]`,
        "extensions:",
        "  health_check: {}",
        "exporters:",
        "  awsemf:",
        `    region: ${region}`,
        `    namespace: kubecontrol/${app}`,
        "service:",
        "  extensions: [health_check]",
        "  pipelines:",
        "    metrics: { receivers: [prometheus], exporters: [awsemf] }",
        "",
      ].join("\n"),
    },
    hostPaths: {},
    // pod discovery lists and watches the app's pods
    rbac: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
  };
}
