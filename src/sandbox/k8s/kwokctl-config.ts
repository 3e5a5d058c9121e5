import { stringify } from "yaml";

/** Paths of the cached binaries a control plane runs (sandbox/build-k8s.sh builds them). */
export interface ControlPlaneBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  kwok: string;
}

/** Names the binaries inside the bin directory sandbox/build-k8s.sh prints. */
export function binariesIn(binDir: string): ControlPlaneBinaries {
  return {
    kubeApiserver: `${binDir}/kube-apiserver`,
    kubeControllerManager: `${binDir}/kube-controller-manager`,
    kubeScheduler: `${binDir}/kube-scheduler`,
    kubectl: `${binDir}/kubectl`,
    etcd: `${binDir}/etcd`,
    kwok: `${binDir}/kwok`,
  };
}

export interface KwokctlConfigInput {
  binaries: ControlPlaneBinaries;
  /** kubeconfig-format file that points kube-apiserver at the sandbox's token webhook. */
  webhookConfigFile: string;
  /** Kubernetes version the binaries were built at, e.g. "v1.34.4" (kwokctl picks flags by it). */
  kubeVersion: string;
  /** etcd's peer port (no kwokctl flag sets it). */
  etcdPeerPort?: number;
}

/**
 * The KwokctlConfiguration passed with `kwokctl create cluster --config`.
 * Stages are served as CRDs (not config) so that tests can load their own per cluster while it runs.
 */
export function kwokctlConfiguration(input: KwokctlConfigInput): string {
  const { binaries } = input;
  const doc = {
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokctlConfiguration",
    options: {
      runtime: "binary",
      kubeVersion: input.kubeVersion,
      // The sandbox is for this machine only: nothing listens beyond loopback.
      bindAddress: "127.0.0.1",
      kubeAuthorization: true,
      ...(input.etcdPeerPort ? { etcdPeerPort: input.etcdPeerPort } : {}),
      kubeApiserverBinary: binaries.kubeApiserver,
      kubeControllerManagerBinary: binaries.kubeControllerManager,
      kubeSchedulerBinary: binaries.kubeScheduler,
      kubectlBinary: binaries.kubectl,
      etcdBinary: binaries.etcd,
      kwokControllerBinary: binaries.kwok,
      enableCRDs: ["Stage"],
      quietPull: true,
    },
    componentsPatches: [
      {
        name: "kube-apiserver",
        extraArgs: [
          { key: "authentication-token-webhook-config-file", value: input.webhookConfigFile },
          { key: "authentication-token-webhook-version", value: "v1" },
          // Access entries change while a cluster runs; a long verdict cache would hide that.
          { key: "authentication-token-webhook-cache-ttl", value: "5s" },
        ],
      },
    ],
  };
  return stringify(doc);
}

/** The kubeconfig-format file kube-apiserver reads to call the token webhook for one cluster. */
export function webhookKubeconfig(webhookUrl: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "eks-token-webhook", cluster: { server: webhookUrl } }],
    users: [{ name: "kube-apiserver", user: {} }],
    contexts: [{ name: "webhook", context: { cluster: "eks-token-webhook", user: "kube-apiserver" } }],
    "current-context": "webhook",
  });
}
