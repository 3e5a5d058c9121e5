import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBinaries } from "../../src/sandbox/k8s/assets.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { loadStages } from "../../src/sandbox/k8s/stages.js";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "../helpers/apps.js";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import type { TestSandbox } from "../helpers/sandbox.js";

// End to end: `kubecontrol rollout` as a real process against the sandbox, on an app made by
// `kubecontrol create`, checked with kubectl (the cluster's admin kubeconfig) and the AWS CLI.

const exec = promisify(execFile);

let project: E2eProject;
let sbx: TestSandbox;
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
 * The app's pods opt into the image gate (test/kube/stages/image-gate.yaml): they become ready
 * unless their image is registry.local/app:broken, which no kubelet can pull. The gate's two
 * stages and the sandbox's default exclude each other, so which one plays a pod never depends
 * on KWOK's choice between stages; they are loaded as soon as the cluster exists, before any pod.
 */
const BROKEN = "registry.local/app:broken";
const GATE = path.join(repoRoot, "test/kube/stages/image-gate.yaml");

/** Loads the gate into the colour's control plane as soon as it answers, while create runs. */
async function loadGateWhenClusterExists(done: () => boolean): Promise<void> {
  const kubeconfig = adminKubeconfigPath(path.join(sbx.dir, "k8s"), cluster);
  let lastError: unknown;
  for (const t0 = Date.now(); !done() && Date.now() - t0 < 150_000; ) {
    if (existsSync(kubeconfig)) {
      try {
        await loadStages(sbx.dir, cluster, [GATE]);
        return;
      } catch (err) {
        lastError = err; // the API server may not answer yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the image gate was never loaded into ${cluster}: ${String(lastError)}`);
}

beforeAll(async () => {
  kubectlBin = path.join(await ensureBinaries({ build: false }), "kubectl");
  project = await e2eProject("roll", (spec) =>
    spec.replace(
      '    web: {\n      pool: "general",',
      '    web: {\n      pool: "general",\n      labels: { "sandbox.kubecontrol.dev/stage": "image-gate" },',
    ),
  );
  ({ sbx, app } = project);
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
    // given the app created at its first commit (its pods behind the image gate)
    let finished = false;
    const creating = kubecontrol(["create", app, "--yes"]).then((r) => {
      finished = true;
      return r;
    });
    await loadGateWhenClusterExists(() => finished);
    const created = await creating;
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

  it("a rollout killed between the patch and the watch is finished by running it again, which records the version", async () => {
    // given a third commit rolled out by a run killed once the images are patched, before its watch
    const third = commitChange("third");
    const killed = await project.kubecontrol(["rollout", app, "--yes"], {
      env: { KUBECONTROL_FAILPOINTS: "roll-out-images:after-apply" },
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const patched = await web();
    expect(patched.spec.template.spec.containers[0]!.image).toBe(await ecrReference(third));
    expect(patched.metadata.annotations?.["kubecontrol.io/version"]).not.toBe(third);

    // when it is run again, then it finds the images in place, judges them, and records the version
    const again = await kubecontrol(["rollout", app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/deployment\/web run [0-9a-f]{12} but record [0-9a-f]{12}/);
    const after = await web();
    expect(after.metadata.annotations?.["kubecontrol.io/version"]).toBe(third);
    expect(after.status.availableReplicas).toBe(after.spec.replicas);
  }, 300_000);

  it("undoes a rollout whose new pods cannot pull their image: back on the previous image, available, exit 7", async () => {
    // given the app rolled out (above), and its spec pointing web at an image no kubelet can pull
    const previous = (await web()).spec.template.spec.containers[0]!.image;
    const version = git("rev-parse", "HEAD");
    project.writeSpec((spec) => spec.replace('image: "app"', `image: "${BROKEN}"`));

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
    expect((await runs())[0]).toMatchObject({ command: "rollout", result: "failed", version });
    expect((await runs())[0]!.error).toMatch(
      /^VERIFY_FAILED: rollout failed: deployment\/web failed: ImagePullFailed/,
    );
  }, 300_000);
});
