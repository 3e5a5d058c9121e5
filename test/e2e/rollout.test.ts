import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBinaries } from "../../src/sandbox/k8s/assets.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { loadStages } from "../../src/sandbox/k8s/stages.js";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import type { TestSandbox } from "../helpers/sandbox.js";

// End to end: `kubecontrol rollout` as a real process against the sandbox, on an app made by
// `kubecontrol create`, checked with kubectl (the cluster's admin kubeconfig) and the AWS CLI.

const exec = promisify(execFile);

let project: E2eProject;
let sbx: TestSandbox;
let root: string;
let app: string;
let cluster: string;
let kubectlBin: string;

const kubecontrol = (args: string[]) => project.kubecontrol(args);
const git = (...args: string[]) => project.git(...args);
/** A new commit that changes the app's source (its page), so the version has a new image. */
const commitChange = (text: string) => project.commitChange(text);

async function kubectl<T>(...args: string[]): Promise<T> {
  const { stdout } = await exec(
    kubectlBin,
    [
      "--kubeconfig",
      adminKubeconfigPath(path.join(sbx.dir, "k8s"), cluster),
      "-n",
      app,
      ...args,
      "-o",
      "json",
    ],
    { maxBuffer: 16 << 20 },
  );
  return JSON.parse(stdout) as T;
}

interface Deployment {
  metadata: { uid: string; generation: number; annotations?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
  status: { availableReplicas?: number; updatedReplicas?: number; replicas?: number };
}

const web = () => kubectl<Deployment>("get", "deployment", "web");

/**
 * Waits until KWOK plays a stage just loaded: KWOK picks new Stage objects up from a watch, so a
 * pod made at once may still get the default stage. A probe pod running `image` must reach
 * ImagePullBackOff; a probe that raced the stage (and went Ready) is replaced by another.
 */
async function untilStageApplies(image: string): Promise<void> {
  const admin = ["--kubeconfig", adminKubeconfigPath(path.join(sbx.dir, "k8s"), cluster), "-n", app];
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const probe = `stage-probe-${attempt}`;
    await exec(kubectlBin, [...admin, "run", probe, `--image=${image}`, "--restart=Never"]);
    try {
      for (const until = Date.now() + 5_000; Date.now() < until; ) {
        const pod = await kubectl<{
          status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
        }>("get", "pod", probe);
        const state = pod.status?.containerStatuses?.[0]?.state;
        if (state?.waiting?.reason === "ImagePullBackOff") return;
        if (state && !state.waiting) break; // the default stage got it first: try again
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await exec(kubectlBin, [
        ...admin,
        "delete",
        "pod",
        probe,
        "--grace-period=0",
        "--force",
        "--wait=false",
      ]).catch(() => undefined);
    }
  }
  throw new Error(`the cannot-pull stage never applied to pods running ${image}`);
}

/** The images the web pods run (terminating pods included until they are gone). */
async function webPodImages(): Promise<string[]> {
  const pods = await kubectl<{ items: { spec: { containers: { image: string }[] } }[] }>(
    "get",
    "pods",
    "-l",
    "kubecontrol.io/component=web",
  );
  return pods.items.map((p) => p.spec.containers[0]!.image).sort();
}

/** `<repositoryUri>:<commit>@<digest>` as ECR has it (asked with the AWS CLI, not kubecontrol). */
async function ecrReference(commit: string): Promise<string> {
  const repo = (await awsCli(sbx, ["ecr", "describe-repositories", "--repository-names", app])) as {
    repositories: { repositoryUri: string }[];
  };
  const images = (await awsCli(sbx, [
    "ecr",
    "describe-images",
    "--repository-name",
    app,
    "--image-ids",
    `imageTag=${commit}`,
  ])) as { imageDetails: { imageDigest: string }[] };
  return `${repo.repositories[0]!.repositoryUri}:${commit}@${images.imageDetails[0]!.imageDigest}`;
}

async function dnsRecords(): Promise<unknown[]> {
  return weightedRecords(sbx, `${app}.example.com`);
}

async function clusterArn(): Promise<string> {
  const c = (await awsCli(sbx, ["eks", "describe-cluster", "--name", cluster])) as {
    cluster: { arn: string; createdAt: string };
  };
  return `${c.cluster.arn} ${c.cluster.createdAt}`;
}

async function runs(): Promise<
  { command: string; result: string; colour: string; version: string; error: string | null }[]
> {
  const h = await kubecontrol(["history", app, "-o", "json"]);
  expect(h.status, h.stderr).toBe(0);
  return JSON.parse(h.stdout).runs;
}

/**
 * A KWOK stage that plays a kubelet failing to pull one image: pods running `image` get
 * ImagePullBackOff. Its weight makes it win over the sandbox's default "ready at once" stage,
 * which matches every unlabelled pod, so the pods need no opt-in label.
 */
function imagePullFailureStage(image: string): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kc-test-cannot-pull-${app}
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  weight: 1
  selector:
    matchExpressions:
      - { key: ".metadata.deletionTimestamp", operator: DoesNotExist }
      - { key: ".status.containerStatuses", operator: DoesNotExist }
      - { key: ".spec.containers.[].image", operator: In, values: [${JSON.stringify(image)}] }
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - { lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized }
      - { lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady }
      - { lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady }
      - { lastTransitionTime: {{ $now | Quote }}, status: "True", type: PodScheduled }
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 0
        state:
          waiting: { reason: ImagePullBackOff, message: {{ printf "Back-off pulling image %q" .image | Quote }} }
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      phase: Pending
      startTime: {{ $now | Quote }}
`;
}

beforeAll(async () => {
  kubectlBin = path.join(await ensureBinaries({ build: false }), "kubectl");
  project = await e2eProject("roll");
  ({ sbx, root, app } = project);
  cluster = `kc-${app}-blue`;
}, 120_000);

afterAll(async () => {
  // Everything the app made, app-scoped resources included.
  await project?.cleanup();
}, 180_000);

describe("kubecontrol rollout, end to end", () => {
  it("refuses an app with no live colour (exit 8), pointing at create", async () => {
    const r = await kubecontrol(["rollout", app, "--yes"]);
    expect(r.status, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/has no live colour/);
    expect(r.stderr).toContain(`kubecontrol create ${app}`);
  }, 60_000);

  it("rolls a second commit out in place: new digest-pinned image, same cluster and Deployment, DNS untouched; again is a no-op", async () => {
    // given the app created at its first commit
    const created = await kubecontrol(["create", app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const first = git("rev-parse", "HEAD");
    const before = await web();
    expect(before.spec.template.spec.containers[0]!.image).toBe(await ecrReference(first));
    const [dnsBefore, clusterBefore] = await Promise.all([dnsRecords(), clusterArn()]);

    // when a second commit changes the source, a dry run says what would change and changes nothing
    const second = commitChange("second");
    const dry = await kubecontrol(["rollout", app, "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(new RegExp(`would build .*:${second} \\(not in ECR\\)`));
    expect(dry.stderr).toContain(
      `would change deployment/web web: ${before.spec.template.spec.containers[0]!.image} -> `,
    );
    expect((await web()).metadata.generation).toBe(before.metadata.generation);

    // and the rollout builds the image and patches it in
    const done = await kubecontrol(["rollout", app, "--yes"]);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stderr).toMatch(
      new RegExp(`${app} blue: rolled out ${second.slice(0, 12)} \\(image built\\)`),
    );
    expect(done.stderr).toMatch(/deployment\/web web: .* -> /);

    // then the Deployment (the same object, on the same cluster) runs the new image by digest, all available
    const wanted = await ecrReference(second);
    const after = await web();
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.template.spec.containers[0]!.image).toBe(wanted);
    expect(after.metadata.annotations?.["kubecontrol.io/version"]).toBe(second);
    expect(after.status.availableReplicas).toBe(after.spec.replicas);
    expect(after.status.updatedReplicas).toBe(after.spec.replicas);
    await expect
      .poll(webPodImages, { timeout: 30_000, interval: 250 })
      .toEqual(Array(after.spec.replicas).fill(wanted));
    expect(await clusterArn()).toBe(clusterBefore);
    expect(await dnsRecords()).toEqual(dnsBefore);

    // and history has the run
    expect(await runs()).toContainEqual(
      expect.objectContaining({ command: "rollout", result: "succeeded", colour: "blue", version: second }),
    );

    // when the same version is rolled out again, then nothing changes
    const again = await kubecontrol(["rollout", app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/no-op: every workload already runs/);
    expect((await web()).metadata.generation).toBe(after.metadata.generation);
    expect((await runs())[0]).toMatchObject({ command: "rollout", result: "no-op", version: second });
  }, 300_000);

  it("undoes a rollout whose new pods cannot pull their image: back on the previous image, available, exit 7", async () => {
    // given the app on its second commit (above), and a third commit whose image the kubelets cannot pull
    const previous = (await web()).spec.template.spec.containers[0]!.image;
    const third = commitChange("third");
    const image = await kubecontrol(["image", app]);
    expect(image.status, image.stderr).toBe(0);
    const broken = await ecrReference(third);
    expect(image.stdout).toContain(broken);
    const stage = path.join(root, "cannot-pull.yaml");
    writeFileSync(stage, imagePullFailureStage(broken));
    await loadStages(sbx.dir, cluster, [stage]);
    await untilStageApplies(broken);

    // when it is rolled out
    const r = await kubecontrol(["rollout", app, "--yes"]);

    // then it exits 7, saying which workload failed, why, and to which image it went back
    expect(r.status, r.stderr).toBe(7);
    expect(r.stderr).toMatch(
      /error: rollout failed: deployment\/web failed: ImagePullFailed: pod web-\S+: container web cannot pull image/,
    );
    expect(r.stderr).toContain(`rolled back deployment/web to ${previous}, and it is available again`);
    expect(r.stderr).toMatch(/hint: the previous version is serving/);

    // and the Deployment is back on the previous image, every replica available on it
    const after = await web();
    expect(after.spec.template.spec.containers[0]!.image).toBe(previous);
    await expect
      .poll(webPodImages, { timeout: 30_000, interval: 250 })
      .toEqual(Array(after.spec.replicas).fill(previous));
    await expect
      .poll(async () => (await web()).status.availableReplicas, { timeout: 30_000, interval: 250 })
      .toBe(after.spec.replicas);

    // and history records the failed run with its reason
    expect((await runs())[0]).toMatchObject({ command: "rollout", result: "failed", version: third });
    expect((await runs())[0]!.error).toMatch(
      /^VERIFY_FAILED: rollout failed: deployment\/web failed: ImagePullFailed/,
    );
  }, 300_000);
});
