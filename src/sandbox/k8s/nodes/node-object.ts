import type { KubeletRegistration } from "./user-data.js";

/** An EC2 instance of a node group, as the sandbox turns it into a node. */
export interface NodeInstance {
  instanceId: string;
  privateDnsName: string;
  privateIp?: string;
  availabilityZone: string;
  instanceType: string;
  /** EC2's name: x86_64 or arm64. */
  architecture?: string;
}

/** Annotation naming the instance a sandbox node stands for, so the sandbox only removes its own. */
export const INSTANCE_ANNOTATION = "sandbox.kubecontrol.dev/instance-id";

// vCPUs, memory in GiB and the max pods the EKS AMI's formula gives (ENIs x (IPs per ENI - 1) + 2).
const SHAPES: Record<string, [number, number, number]> = {
  "t3.micro": [2, 1, 4],
  "t3.small": [2, 2, 11],
  "t3.medium": [2, 4, 17],
  "t3.large": [2, 8, 35],
  "t3.xlarge": [4, 16, 58],
  "t4g.medium": [2, 4, 17],
  "t4g.large": [2, 8, 35],
  "m5.large": [2, 8, 29],
  "m5.xlarge": [4, 16, 58],
  "m5.2xlarge": [8, 32, 58],
  "m6i.large": [2, 8, 29],
  "m6i.xlarge": [4, 16, 58],
  "m6g.large": [2, 8, 29],
  "m7g.large": [2, 8, 29],
  "c5.large": [2, 4, 29],
  "c5.xlarge": [4, 8, 58],
  "c6i.large": [2, 4, 29],
  "r5.large": [2, 16, 29],
};

function shapeOf(instanceType: string): [number, number, number] {
  return SHAPES[instanceType] ?? [2, 8, 29];
}

/**
 * The Node object a kubelet on this instance would register, with the labels the kubelet and
 * the AWS cloud provider set plus what the user data gives the kubelet, and nothing else.
 */
export function nodeFor(instance: NodeInstance, registration: KubeletRegistration, kubeVersion: string) {
  const arch = instance.architecture === "arm64" ? "arm64" : "amd64";
  const region = instance.availabilityZone.replace(/[a-z]$/, "");
  const [cpu, memoryGi, pods] = shapeOf(instance.instanceType);
  // What the EKS AMI reserves for the system, so allocatable is below capacity as on AWS.
  const reservedMi = 255 + 11 * pods + 100;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: instance.privateDnsName,
      annotations: { [INSTANCE_ANNOTATION]: instance.instanceId, "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        ...registration.labels,
        "kubernetes.io/hostname": instance.privateDnsName,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
        "node.kubernetes.io/instance-type": instance.instanceType,
        "beta.kubernetes.io/instance-type": instance.instanceType,
        "topology.kubernetes.io/zone": instance.availabilityZone,
        "topology.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/zone": instance.availabilityZone,
        "failure-domain.beta.kubernetes.io/region": region,
      },
    },
    spec: {
      providerID: `aws:///${instance.availabilityZone}/${instance.instanceId}`,
      ...(registration.taints.length > 0 ? { taints: registration.taints } : {}),
    },
    status: {
      addresses: [
        ...(instance.privateIp ? [{ type: "InternalIP", address: instance.privateIp }] : []),
        { type: "InternalDNS", address: instance.privateDnsName },
        { type: "Hostname", address: instance.privateDnsName },
      ],
      capacity: {
        cpu: String(cpu),
        memory: `${memoryGi}Gi`,
        pods: String(pods),
        "ephemeral-storage": "20Gi",
      },
      allocatable: {
        cpu: `${cpu * 1000 - 80}m`,
        memory: `${memoryGi * 1024 - reservedMi}Mi`,
        pods: String(pods),
        "ephemeral-storage": "18Gi",
      },
      nodeInfo: {
        architecture: arch,
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023",
        kernelVersion: "6.1.0-sandbox",
        containerRuntimeVersion: "containerd://1.7.27",
        kubeletVersion: `${kubeVersion}-eks`,
        kubeProxyVersion: "",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
}
