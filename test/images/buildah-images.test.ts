import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import { ensureImageStep } from "../../src/engine/steps/images/ensure-image.js";
import { KubecontrolError } from "../../src/errors.js";
import { buildahBuilder } from "../../src/images/buildah-builder.js";
import type { ImageBuilder } from "../../src/images/builder.js";
import { ensureImage } from "../../src/images/ensure-image.js";
import { repoRoot } from "../helpers/apps.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { type HelloProject, helloProject } from "./image-fixture.js";

let sbx: TestSandbox;
let project: HelloProject;
let builds = 0;

/** The real buildah builder, counting how often it is asked to build. */
function countedBuilder(): ImageBuilder {
  const real = buildahBuilder({
    storageDir: path.join(project.stateDir, "buildah"),
    caBundles: [sbx.env.NODE_EXTRA_CA_CERTS!],
  });
  return {
    name: real.name,
    build(request) {
      builds++;
      return real.build(request);
    },
  };
}

function ensure(version?: string) {
  return ensureImage({
    app: project.app,
    projectRoot: project.root,
    version,
    stateDir: project.stateDir,
    ecr: project.ecr,
    builder: async () => countedBuilder(),
  });
}

/** The registry's own tag list, read through ECR's registry address with an ECR token. */
async function registryTags(): Promise<string[]> {
  const repo = await project.ecr.repository(project.repository);
  const auth = await project.ecr.registryAuth();
  // The registry proxy answers HTTP and HTTPS on one port; HTTP spares the test the CA.
  const host = repo.uri.split("/")[0];
  const res = await fetch(`http://${host}/v2/${project.repository}/tags/list`, {
    headers: { authorization: `Basic ${auth.token}` },
  });
  return ((await res.json()) as { tags?: string[] }).tags ?? [];
}

beforeAll(async () => {
  sbx = await testSandbox();
  project = await helloProject(sbx);
});

afterAll(() => project?.dispose());

describe("images built by buildah", () => {
  it("given no version and a head commit missing from ECR, when ensured, then it is built, pushed, and referenced by tag and digest", async () => {
    const before = builds;
    const result = await ensure();
    expect(result.outcome).toBe("built");
    expect(builds - before).toBe(1);
    expect(result.commit).toBe(project.initialCommit);
    expect(result.image.tag).toBe(result.commit);
    expect(result.image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.image.reference).toBe(
      `${result.image.repositoryUri}:${result.commit}@${result.image.digest}`,
    );
    expect(await registryTags()).toContain(result.commit);
    expect(await project.ecr.imageDigest(project.repository, result.commit)).toBe(result.image.digest);
  });

  it("given the image is in ECR, when ensured again, then nothing is built and it returns in under a second", async () => {
    const first = await ensure();
    const before = builds;
    const t0 = performance.now();
    const again = await ensure();
    const ms = performance.now() - t0;
    expect(again.outcome).toBe("found");
    expect(builds).toBe(before);
    expect(again.image.reference).toBe(first.image.reference);
    expect(ms).toBeLessThan(1000);
  });

  it("given a commit that changes the Dockerfile, when ensured, then a new image is built", async () => {
    const old = await ensure();
    project.write(
      "apps/hello/Dockerfile",
      "FROM scratch\nCOPY index.html /srv/index.html\nLABEL changed=yes\n",
    );
    const commit = project.commit("change the Dockerfile");
    const result = await ensure(commit);
    expect(result.outcome).toBe("built");
    expect(result.commit).toBe(commit);
    expect(result.image.digest).not.toBe(old.image.digest);
    expect(await registryTags()).toEqual(expect.arrayContaining([old.commit, commit]));
  });

  it("given uncommitted changes, when ensured, then the build uses the commit's tree, not the working copy", async () => {
    project.write("apps/hello/index.html", "<p>committed</p>\n");
    const commit = project.commit("clean");
    // A working copy that could not build: were it the context, the build would fail.
    project.write("apps/hello/Dockerfile", "FROM scratch\nCOPY not-committed /x\n");
    try {
      const result = await ensure(commit);
      expect(result.outcome).toBe("built");
    } finally {
      project.write(
        "apps/hello/Dockerfile",
        "FROM scratch\nCOPY index.html /srv/index.html\nLABEL changed=yes\n",
      );
    }
  });

  it("given a broken Dockerfile, when ensured, then it fails with the end of buildah's output and pushes nothing", async () => {
    project.write("apps/hello/Dockerfile", "FROM scratch\nCOPY no-such-file /srv/\n");
    const commit = project.commit("break the Dockerfile");
    const err = await ensure(commit).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubecontrolError);
    expect((err as KubecontrolError).code).toBe("STEP_FAILED");
    expect((err as KubecontrolError).message).toContain("buildah build of");
    expect((err as KubecontrolError).message).toContain("no-such-file");
    expect(await project.ecr.imageDigest(project.repository, commit)).toBeUndefined();
    project.write("apps/hello/Dockerfile", "FROM scratch\nCOPY index.html /srv/index.html\n");
    project.commit("mend the Dockerfile");
  });

  it("given an unknown version, when ensured, then it fails with NOT_FOUND and builds nothing", async () => {
    let made = 0;
    const err = await ensureImage({
      app: project.app,
      projectRoot: project.root,
      version: "no-such-branch",
      stateDir: project.stateDir,
      ecr: project.ecr,
      builder: async () => {
        made++;
        return countedBuilder();
      },
    }).catch((e: unknown) => e);
    expect((err as KubecontrolError).code).toBe("NOT_FOUND");
    expect((err as KubecontrolError).message).toContain('version "no-such-branch" of hello is not a commit');
    expect(made).toBe(0);
  });

  it("given the image is in ECR, when run as a step, then check is satisfied with its reference", async () => {
    const present = await ensure();
    const before = builds;
    const step = ensureImageStep({
      app: project.app,
      projectRoot: project.root,
      stateDir: project.stateDir,
      ecr: project.ecr,
      builder: async () => countedBuilder(),
    });
    const report = await runSteps([step]);
    expect(report.ok).toBe(true);
    expect(report.steps[0]?.changed).toBe(false);
    expect((report.results.get("ensure-image") as { image: { reference: string } }).image.reference).toBe(
      present.image.reference,
    );
    expect(builds).toBe(before);
  });

  it("given a new commit, when run as a step, then apply builds it and the step reports the reference", async () => {
    project.write("apps/hello/index.html", "<p>step</p>\n");
    const commit = project.commit("step");
    const report = await runSteps([
      ensureImageStep({
        app: project.app,
        projectRoot: project.root,
        version: commit,
        stateDir: project.stateDir,
        ecr: project.ecr,
        builder: async () => countedBuilder(),
      }),
    ]);
    expect(report.ok, String(report.steps[0]?.error)).toBe(true);
    expect(report.steps[0]?.changed).toBe(true);
    expect(report.steps[0]?.summary).toMatch(new RegExp(`^built .*:${commit}@sha256:`));
  });

  it("given a git remote as the source, when ensured by an abbreviated commit, then it builds from a mirror of the remote", async () => {
    project.write("apps/hello/index.html", "<p>remote</p>\n");
    const commit = project.commit("remote");
    const remote = path.join(project.root, ".state", "remote.git");
    execFileSync("git", ["clone", "--quiet", "--bare", project.root, remote]);
    const app = { ...project.app, image: { ...project.app.image, source: { git: remote } } };
    const run = (version?: string) =>
      ensureImage({
        app,
        projectRoot: project.root,
        version,
        stateDir: project.stateDir,
        ecr: project.ecr,
        builder: async () => countedBuilder(),
      });
    const built = await run(commit.slice(0, 10));
    expect(built.commit).toBe(commit);
    expect(built.outcome).toBe("built");
    const head = await run();
    expect(head.commit).toBe(commit);
    expect(head.outcome).toBe("found");
  });

  it("given a push the registry refuses, then the error has buildah's output but never the registry token", async () => {
    const repo = await project.ecr.repository(project.repository);
    const auth = await project.ecr.registryAuth();
    const password = Buffer.from(auth.token, "base64").toString("utf8").split(":").slice(1).join(":");
    const missing = {
      ...repo,
      name: "kc-no-such-repository",
      uri: `${repo.uri.split("/")[0]}/kc-no-such-repository`,
    };
    const err = (await countedBuilder()
      .build({
        app: "hello",
        repository: missing,
        commit: project.initialCommit,
        gitDir: project.root,
        remote: undefined,
        context: "apps/hello",
        dockerfile: "Dockerfile",
        buildArgs: {},
        registryAuth: async () => auth,
        progress: () => {},
      })
      .catch((e: unknown) => e)) as KubecontrolError;
    expect(err.code).toBe("STEP_FAILED");
    expect(err.message).toContain("buildah push of");
    const everything = JSON.stringify({ message: err.message, hint: err.hint, details: err.details });
    expect(everything).not.toContain(auth.token);
    expect(everything).not.toContain(password);
  });

  it("given two concurrent calls for one version, when both run, then it is built once", async () => {
    project.write("apps/hello/index.html", "<p>concurrent</p>\n");
    const commit = project.commit("concurrent");
    const before = builds;
    const [a, b] = await Promise.all([ensure(commit), ensure(commit)]);
    expect(builds - before).toBe(1);
    expect([a.outcome, b.outcome].sort()).toEqual(["built", "found"]);
    expect(a.image.reference).toBe(b.image.reference);
  });
});

describe("kubecontrol image", () => {
  function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, "bin/kubecontrol"), ...args], {
        cwd: project.root,
        env: {
          ...process.env,
          ...sbx.env,
          KUBECONTROL_STATE_DIR: project.stateDir,
          NODE_NO_WARNINGS: "1",
          NO_COLOR: "1",
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d;
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
      });
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  }

  it("given two processes asking for one version at once, then one builds and the other finds it", async () => {
    project.write("apps/hello/index.html", "<p>two processes</p>\n");
    const commit = project.commit("two processes");
    const runs = await Promise.all([
      cli(["--json", "image", "hello", "--version", commit]),
      cli(["--json", "image", "hello", "--version", commit]),
    ]);
    for (const r of runs) expect(r.status, r.stderr + r.stdout).toBe(0);
    const docs = runs.map((r) => JSON.parse(r.stdout) as { outcome: string; reference: string; tag: string });
    expect(docs.map((d) => d.outcome).sort()).toEqual(["built", "found"]);
    expect(docs[0]!.reference).toBe(docs[1]!.reference);
    expect(docs[0]!.tag).toBe(commit);
  }, 60_000);

  it("given an unknown version, then it exits 8 with a clear message", async () => {
    const r = await cli(["image", "hello", "--version", "v9.9.9"]);
    expect(r.status).toBe(8);
    expect(r.stderr).toContain('version "v9.9.9" of hello is not a commit');
  }, 30_000);
});
