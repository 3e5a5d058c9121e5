import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand, EC2Client } from "@aws-sdk/client-ec2";
import { AppsV1Api, CoreV1Api, setHeaderOptions, type V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStages, STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";
import { createEksCluster, eksKubeConfig, type SdkCluster, waitFor } from "./helpers.js";

let sbx: TestSandbox;
let cluster: SdkCluster;
let apps: AppsV1Api;
let core: CoreV1Api;
const group = uniqueName("kc-work-asg");
let templateId: string | undefined;
let asg: AutoScalingClient;
let ec2: EC2Client;

function deployment(name: string, podLabels: Record<string, string> = {}): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...podLabels } },
        spec: { containers: [{ name: "web", image: "registry.example/web:1" }] },
      },
    },
  };
}

beforeAll(async () => {
  sbx = await testSandbox();
  cluster = await createEksCluster(sbx, "kc-work");
  const kc = await eksKubeConfig(sbx, cluster.name, cluster.credentials);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  asg = new AutoScalingClient(sdkConfig(sbx));
  ec2 = new EC2Client(sdkConfig(sbx));
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: uniqueName("kc-work-lt"),
      LaunchTemplateData: { ImageId: "ami-12345678", InstanceType: "m5.large" },
    }),
  );
  templateId = template.LaunchTemplate!.LaunchTemplateId!;
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      MinSize: 0,
      MaxSize: 2,
      DesiredCapacity: 1,
      AvailabilityZones: [`${sbx.region}a`],
      LaunchTemplate: { LaunchTemplateId: templateId, Version: "$Latest" },
      Tags: [{ Key: `kubernetes.io/cluster/${cluster.name}`, Value: "owned", PropagateAtLaunch: true }],
    }),
  );
  await waitFor("a node", 10_000, async () => (await core.listNode()).items.length === 1);
}, 90_000);

afterAll(async () => {
  await asg
    ?.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true }))
    .catch(() => {});
  if (templateId)
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId })).catch(() => {});
  await cluster?.destroy();
});

describe("workloads on sandbox nodes", () => {
  it("makes a Deployment available", async () => {
    await apps.createNamespacedDeployment({ namespace: "default", body: deployment("ready") });
    const available = await waitFor("2 available replicas", 20_000, async () => {
      const d = await apps.readNamespacedDeployment({ namespace: "default", name: "ready" });
      return d.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(available.status?.readyReplicas).toBe(2);
  });

  it("keeps pods unready under a stage a test loads", async () => {
    // given the never-ready stage, and a Deployment whose pods carry its label
    await loadStages(sbx.dir, cluster.name, ["pod-never-ready"]);
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: deployment("stuck", { [STAGE_LABEL]: "never-ready" }),
    });
    // then its pods run but never become Ready, so the Deployment stays unavailable
    await waitFor("2 running pods", 20_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=stuck" });
      return pods.items.filter((p) => p.status?.phase === "Running").length === 2;
    });
    await new Promise((r) => setTimeout(r, 2000)); // a window in which a default stage would have made them Ready
    const pods = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=stuck" });
    for (const pod of pods.items) {
      expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    }
    const d = await apps.readNamespacedDeployment({ namespace: "default", name: "stuck" });
    expect(d.status?.availableReplicas ?? 0).toBe(0);
  });

  it("makes pods crash or fail to pull, and a node go NotReady, under the built-in stages", async () => {
    await loadStages(sbx.dir, cluster.name, ["pod-crash-loop", "pod-image-pull-failure", "node-not-ready"]);
    for (const behaviour of ["crash-loop", "image-pull-failure"]) {
      await core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name: behaviour, labels: { [STAGE_LABEL]: behaviour } },
          spec: { containers: [{ name: "web", image: "registry.example/web:1" }] },
        },
      });
    }
    const waitingReason = (name: string) =>
      waitFor(`${name}'s container to wait`, 20_000, async () => {
        const pod = await core.readNamespacedPod({ namespace: "default", name });
        return pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      });
    expect(await waitingReason("crash-loop")).toBe("CrashLoopBackOff");
    expect(await waitingReason("image-pull-failure")).toBe("ImagePullBackOff");

    // when a test labels a node for the not-ready stage, its Ready condition turns False
    const [node] = (await core.listNode()).items;
    await core.patchNode(
      {
        name: node!.metadata!.name!,
        body: [{ op: "add", path: `/metadata/labels/${STAGE_LABEL.replace("/", "~1")}`, value: "not-ready" }],
      },
      setHeaderOptions("Content-Type", "application/json-patch+json"),
    );
    await waitFor("the node to be NotReady", 20_000, async () => {
      const n = await core.readNode({ name: node!.metadata!.name! });
      return n.status?.conditions?.find((c) => c.type === "Ready")?.status === "False";
    });
  });
});
