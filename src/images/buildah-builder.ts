import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubecontrolError } from "../errors.js";
import { gatedChange } from "../fence.js";
import type { BuildRequest, BuildResult, ImageBuilder } from "./builder.js";
import type { RegistryAuth } from "./ecr-images.js";
import { lastLines, runCaptured } from "./run-captured.js";
import { exportTree } from "./source-tree.js";

export interface BuildahOptions {
  /** buildah's image store (vfs): kubecontrol's own, so it neither needs nor disturbs the host's. */
  storageDir: string;
  /** Extra CA bundles the registry's certificate may be signed by (the sandbox CA), besides the system's. */
  caBundles?: string[];
  /** Lines of the builder's output kept in a failure's message. */
  tailLines?: number;
}

/**
 * Builds with buildah (daemonless; vfs storage and chroot isolation, so it runs unprivileged
 * in a container) and pushes with an ECR token handed over in an auth file, never in argv.
 */
export function buildahBuilder(o: BuildahOptions): ImageBuilder {
  const tailLines = o.tailLines ?? 25;
  const global = [
    "--root",
    path.join(o.storageDir, "storage"),
    "--runroot",
    path.join(o.storageDir, "run"),
    "--storage-driver",
    "vfs",
  ];
  return {
    name: "buildah",
    async build(req: BuildRequest): Promise<BuildResult> {
      const image = `${req.repository.uri}:${req.commit}`;
      const tree = await exportTree(req.gitDir, req.commit);
      const secrets = await mkdtemp(path.join(tmpdir(), "kc-buildah-"));
      try {
        const auth = await req.registryAuth();
        const password = Buffer.from(auth.token, "base64").toString("utf8").split(":").slice(1).join(":");
        const redact = [auth.token, password];
        const authFile = await writeAuthFile(secrets, auth, req.repository.uri);
        const certDir = o.caBundles?.length ? await writeCertDir(secrets, o.caBundles) : undefined;
        const access = ["--authfile", authFile, ...(certDir ? ["--cert-dir", certDir] : [])];
        const contextDir = path.join(tree.dir, req.context);
        const buildArgs = Object.entries(req.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
        req.progress(`buildah: building ${image} from ${req.context}/${req.dockerfile}`);
        const bud = await runCaptured(
          "buildah",
          [
            ...global,
            "bud",
            "--isolation",
            "chroot",
            "--format",
            "docker",
            "--layers=false",
            ...access,
            "-f",
            path.join(contextDir, req.dockerfile),
            "-t",
            image,
            ...buildArgs,
            contextDir,
          ],
          { redact, ...(req.signal ? { signal: req.signal } : {}) },
        );
        if (req.signal?.aborted) throw cancelled(image);
        if (bud.code !== 0) throw failed("build", image, bud.tail, tailLines);
        req.progress(`buildah: pushing ${image}`);
        const digestFile = path.join(secrets, "digest");
        // A push changes the registry: only while the run holds the app's lease (src/fence.ts),
        // and the lease waits for it before it is released.
        const push = await gatedChange(`push ${image}`, () =>
          runCaptured(
            "buildah",
            [...global, "push", ...access, "--digestfile", digestFile, image, `docker://${image}`],
            {
              redact,
              ...(req.signal ? { signal: req.signal } : {}),
            },
          ),
        );
        // The local copy is only a step on the way to the registry: vfs keeps full copies.
        await runCaptured("buildah", [...global, "rmi", image], {});
        if (req.signal?.aborted) throw cancelled(image);
        if (push.code !== 0) throw failed("push", image, push.tail, tailLines);
        const digest = (await readFile(digestFile, "utf8").catch(() => "")).trim();
        return digest ? { digest } : {};
      } finally {
        await rm(secrets, { recursive: true, force: true });
        await tree.dispose();
      }
    },
  };
}

/** A containers auth file (mode 0600) for the registry ECR names and the repository's host. */
async function writeAuthFile(dir: string, auth: RegistryAuth, repositoryUri: string): Promise<string> {
  const hosts = new Set([
    auth.endpoint.replace(/^https?:\/\//, "").replace(/\/.*$/, ""),
    repositoryUri.split("/")[0]!,
  ]);
  const file = path.join(dir, "auth.json");
  const auths = Object.fromEntries([...hosts].map((h) => [h, { auth: auth.token }]));
  await writeFile(file, JSON.stringify({ auths }), { mode: 0o600 });
  return file;
}

/** A --cert-dir holding only CA bundles (buildah reads any *.key there as a client key). */
async function writeCertDir(dir: string, caBundles: string[]): Promise<string> {
  const certDir = path.join(dir, "certs");
  await mkdir(certDir, { mode: 0o700 });
  await Promise.all(caBundles.map((file, i) => copyFile(file, path.join(certDir, `ca-${i}.crt`))));
  return certDir;
}

function failed(what: "build" | "push", image: string, tail: string, lines: number): KubecontrolError {
  const output = lastLines(tail, lines);
  return new KubecontrolError("STEP_FAILED", `buildah ${what} of ${image} failed:\n${output}`, {
    hint:
      what === "build"
        ? "fix the Dockerfile or the build context at that commit; the lines above are the end of buildah's output"
        : "check that the repository exists and the registry is reachable; the lines above are the end of buildah's output",
    details: { builder: "buildah", phase: what, output },
  });
}

function cancelled(image: string): KubecontrolError {
  return new KubecontrolError("CANCELLED", `the build of ${image} was cancelled`, {
    hint: "run the command again to build it",
  });
}
