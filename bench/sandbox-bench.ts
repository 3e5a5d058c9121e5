// What the sandbox benches (bench/create.ts, bench/rollout.ts) share: the test sandbox and a
// throwaway git project for a generated app, bin/kubecontrol as its own process under a probe
// preload, and kubectl against one of the app's clusters.
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { describeClusterEndpoint } from "../src/kube/describe-cluster.js";
import { presignEksToken } from "../src/kube/eks-token.js";
import { ensureBinaries } from "../src/sandbox/k8s/assets.js";
import { type CliRun, spawnCli } from "../test/helpers/e2e-runs.js";
import { gitIn, gitInitCommit } from "../test/helpers/git.js";
import { ensureTestSandbox, type TestSandbox, testAccessKeyId } from "../test/helpers/sandbox.js";
import buildDist from "../test/setup/build.global.js";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

/** A generated app in a git project of its own, deployed to the test sandbox. */
export interface BenchProject {
  sbx: TestSandbox;
  root: string;
  appsDir: string;
  name: string;
  /** The CLI's environment: the sandbox's AWS endpoint, a state directory of the project's own. */
  env: NodeJS.ProcessEnv;
  /** A new commit that changes the app's source (its page), so the version has a new image; returns it. */
  commit(): string;
}

/**
 * Builds dist/ (the CLI runs from it), finds the test sandbox up or brings it up, and writes a
 * project in a temporary directory laid out like this repository: apps/<name>.ts holding `spec`
 * and apps/<name>/ a copy of hello's image, committed to git.
 */
export async function benchProject(kind: string, name: string, spec: string): Promise<BenchProject> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  buildDist();
  const sbx = await ensureTestSandbox();
  const root = mkdtempSync(path.join(os.tmpdir(), `kc-bench-${kind}-`));
  const appsDir = path.join(root, "apps");
  mkdirSync(appsDir, { recursive: true });
  cpSync(path.join(repoRoot, "apps/hello"), path.join(appsDir, name), { recursive: true });
  writeFileSync(path.join(appsDir, `${name}.ts`), spec);
  gitInitCommit(root, `${name}: generated for the ${kind} bench`);
  let versions = 0;
  return {
    sbx,
    root,
    appsDir,
    name,
    env: {
      ...process.env,
      ...sbx.env,
      NO_COLOR: "1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      KUBECONTROL_STATE_DIR: path.join(root, ".state"),
    },
    commit() {
      versions++;
      appendFileSync(path.join(appsDir, name, "index.html"), `<p>version ${versions}</p>\n`);
      gitIn(root, "commit", "-q", "-am", `version ${versions}`);
      return gitIn(root, "rev-parse", "HEAD");
    },
  };
}

/** A finished run of the CLI with --json: its output parsed into the documents it printed. */
export interface JsonRun extends CliRun {
  docs: Record<string, unknown>[];
}

/**
 * Runs `bin/kubecontrol --json <args>` in the project as its own process, with `probe` (a
 * preload module's URL) loaded first; `env` is added to the project's environment.
 */
export async function kubecontrolJson(
  b: BenchProject,
  args: string[],
  o: { probe: string; env?: NodeJS.ProcessEnv; accessKeyId?: string },
): Promise<JsonRun> {
  const r = await spawnCli(["--json", ...args], {
    cwd: b.root,
    env: { ...b.env, ...o.env },
    accessKeyId: o.accessKeyId,
    nodeArgs: ["--import", o.probe],
  }).done;
  const docs = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...r, docs };
}

/**
 * kubectl against `cluster` with a kubeconfig (written to `dir`) holding a presigned EKS token:
 * static, so no exec plugin runs per call.
 */
export async function kubectlFor(sbx: TestSandbox, cluster: string, dir: string) {
  const credentials = { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" };
  const endpoint = await describeClusterEndpoint(cluster, {
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials,
  });
  const { token } = await presignEksToken({
    clusterName: cluster,
    region: sbx.region,
    credentials,
    endpoint: sbx.endpoint,
  });
  const kubeconfig = path.join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "bench",
          cluster: { server: endpoint.endpoint, "certificate-authority-data": endpoint.certificateAuthority },
        },
      ],
      users: [{ name: "bench", user: { token } }],
      contexts: [{ name: "bench", context: { cluster: "bench", user: "bench" } }],
      "current-context": "bench",
    }),
    { mode: 0o600 },
  );
  const binary = `${await ensureBinaries({ build: false })}/kubectl`;
  return {
    /** Runs kubectl with the kubeconfig; resolves to its stdout. */
    run: async (...args: string[]) =>
      (await run(binary, ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout,
    /** kubectl's client version, e.g. v1.31.0. */
    version: async () => {
      const { stdout } = await run(binary, ["version", "--client", "-o", "json"]);
      return (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
    },
  };
}
