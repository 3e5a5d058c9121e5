import type { Build, CreateProjectInput } from "@aws-sdk/client-codebuild";
import { waitUntil } from "../engine/wait-until.js";
import { KubecontrolError } from "../errors.js";
import { resourceName } from "../plan/names.js";
import { assertOwned } from "../plan/ownership.js";
import type { BuildRequest, BuildResult, ImageBuilder } from "./builder.js";
import type { CodeBuildApi } from "./codebuild-api.js";
import { splitRemote } from "./version.js";

export interface CodeBuildOptions {
  api: CodeBuildApi;
  /** The role builds run as; default `arn:aws:iam::<account>:role/kc-<app>-image-build`. */
  serviceRole?: string;
  /**
   * Makes sure the default role exists before the project names it, returning its ARN
   * (src/images/image-build-role.ts); without it the role must already be there.
   */
  ensureServiceRole?: (app: string, signal?: AbortSignal) => Promise<string>;
  /** How long to follow a build before giving up on it (it keeps running in CodeBuild). */
  timeoutMs?: number;
  pollInitialMs?: number;
  pollMaxMs?: number;
}

const BUILD_IMAGE = "aws/codebuild/standard:7.0";
const LOG_GROUP = "/kubecontrol/image-builds";

/** The CodeBuild project of an app: one per app, named like its other resources. */
export function codeBuildProjectName(app: string): string {
  return resourceName(app, ["image"], 150);
}

/**
 * Builds with AWS CodeBuild: ensures the app's project, starts a build at the commit (or
 * follows one already running for it, so a retried run does not submit twice), and follows its
 * phases until it ends.
 */
export function codeBuildBuilder(o: CodeBuildOptions): ImageBuilder {
  return {
    name: "codebuild",
    async build(req: BuildRequest): Promise<BuildResult> {
      const name = codeBuildProjectName(req.app);
      await ensureProject(o, req, name);
      const running = (await o.api.recentBuilds(name)).find(
        (b) => b.buildStatus === "IN_PROGRESS" && b.sourceVersion === req.commit,
      );
      const started =
        running ??
        (await o.api.startBuild({
          projectName: name,
          sourceVersion: req.commit,
          environmentVariablesOverride: [{ name: "IMAGE_TAG", value: req.commit, type: "PLAINTEXT" }],
        }));
      req.progress(
        `codebuild: ${running ? "following running" : "started"} build ${started.id} at ${req.commit}`,
      );
      const seen = new Set<string>();
      const build = await waitUntil(
        async () => {
          const b = await o.api.getBuild(started.id!);
          if (!b) return { done: false, state: `build ${started.id} not visible yet` };
          for (const p of b.phases ?? []) {
            const key = `${p.phaseType}:${p.phaseStatus ?? ""}`;
            if (p.phaseStatus && !seen.has(key)) {
              seen.add(key);
              req.progress(`codebuild: ${p.phaseType} ${p.phaseStatus}`);
            }
          }
          if (b.buildStatus === "IN_PROGRESS")
            return { done: false, state: `build ${b.id} in ${b.currentPhase}` };
          return { done: true, value: b };
        },
        {
          what: `CodeBuild build ${started.id}`,
          timeoutMs: o.timeoutMs ?? 60 * 60_000,
          initialDelayMs: o.pollInitialMs ?? 2000,
          maxDelayMs: o.pollMaxMs ?? 15_000,
          ...(req.signal ? { signal: req.signal } : {}),
        },
      ).catch((err: unknown) => {
        if (err instanceof KubecontrolError && err.code === "TIMEOUT") {
          throw new KubecontrolError("TIMEOUT", `${err.message}; it keeps running in CodeBuild`, {
            retryable: true,
            hint: `run the command again to follow it (logs: ${LOG_GROUP})`,
            details: { buildId: started.id, status: "IN_PROGRESS" },
            cause: err,
          });
        }
        throw err;
      });
      if (build.buildStatus !== "SUCCEEDED") throw buildFailed(build);
      const digest = build.exportedEnvironmentVariables?.find((v) => v.name === "IMAGE_DIGEST")?.value;
      const logs = whereLogs(build);
      return { ...(digest ? { digest } : {}), ...(logs ? { logs } : {}) };
    },
  };
}

async function ensureProject(o: CodeBuildOptions, req: BuildRequest, name: string): Promise<void> {
  const role =
    o.serviceRole ?? (o.ensureServiceRole ? await o.ensureServiceRole(req.app, req.signal) : undefined);
  const desired = projectDefinition({ ...o, ...(role ? { serviceRole: role } : {}) }, req, name);
  const existing = await o.api.getProject(name);
  // A project of the same name made for another app (or by hand) is never updated for this one.
  if (existing) {
    const tags = Object.fromEntries((existing.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""]));
    assertOwned(`CodeBuild project ${name}`, tags, { app: req.app }, { action: "adopt or change" });
  }
  if (!existing) {
    req.progress(`codebuild: creating project ${name}`);
    await o.api.createProject(desired);
    return;
  }
  const drifted =
    existing.source?.location !== desired.source.location ||
    existing.source?.buildspec !== desired.source.buildspec ||
    existing.environment?.image !== desired.environment.image ||
    existing.serviceRole !== desired.serviceRole;
  if (drifted) {
    req.progress(`codebuild: updating project ${name}`);
    await o.api.updateProject(desired);
  }
}

function projectDefinition(
  o: CodeBuildOptions,
  req: BuildRequest,
  name: string,
): CreateProjectInput & {
  source: NonNullable<CreateProjectInput["source"]>;
  environment: NonNullable<CreateProjectInput["environment"]>;
} {
  if (!req.remote) {
    throw new KubecontrolError(
      "PRECONDITION",
      `CodeBuild cannot fetch the source of ${req.app}: it has no git remote`,
      {
        hint: "give the app's source a remote (image.source.git, or an origin remote), or use builder: buildah",
      },
    );
  }
  return {
    name,
    description: `kubecontrol image builds of ${req.app}`,
    // Credentials never go into the project (AWS keeps its source location, and shows it).
    source: {
      type: sourceType(req.remote),
      location: splitRemote(req.remote).url,
      buildspec: buildspec(req),
    },
    artifacts: { type: "NO_ARTIFACTS" },
    environment: {
      type: "LINUX_CONTAINER",
      image: BUILD_IMAGE,
      computeType: "BUILD_GENERAL1_SMALL",
      // Docker inside the build container needs it.
      privilegedMode: true,
      environmentVariables: [{ name: "IMAGE_URI", value: req.repository.uri, type: "PLAINTEXT" }],
    },
    serviceRole:
      o.serviceRole ??
      `arn:aws:iam::${req.repository.accountId}:role/${resourceName(req.app, ["image-build"], 64)}`,
    logsConfig: { cloudWatchLogs: { status: "ENABLED", groupName: LOG_GROUP, streamName: name } },
    tags: [{ key: "kubecontrol:app", value: req.app }],
  };
}

/** The buildspec: log in to ECR, build at the context, push, export the pushed digest. */
function buildspec(req: BuildRequest): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const ctx = q(req.context);
  const file = q(`${req.context}/${req.dockerfile}`);
  const args = Object.entries(req.buildArgs)
    .map(([k, v]) => ` --build-arg ${q(`${k}=${v}`)}`)
    .join("");
  return [
    "version: 0.2",
    "env:",
    "  exported-variables: [IMAGE_DIGEST]",
    "phases:",
    "  pre_build:",
    "    commands:",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    '      - aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE_URI%%/*}"',
    "  build:",
    "    on-failure: ABORT",
    "    commands:",
    `      - docker build -f ${file} -t "$IMAGE_URI:$IMAGE_TAG"${args} ${ctx}`,
    "  post_build:",
    "    commands:",
    '      - docker push "$IMAGE_URI:$IMAGE_TAG"',
    `      - IMAGE_DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE_URI:$IMAGE_TAG" | cut -d@ -f2)`,
    "",
  ].join("\n");
}

function sourceType(remote: string): "GITHUB" | "BITBUCKET" | "CODECOMMIT" | "GITLAB" {
  if (/github\.com[/:]/.test(remote)) return "GITHUB";
  if (/bitbucket\.org[/:]/.test(remote)) return "BITBUCKET";
  if (/git-codecommit\.[^/]+\.amazonaws\.com/.test(remote)) return "CODECOMMIT";
  if (/gitlab\.com[/:]/.test(remote)) return "GITLAB";
  throw new KubecontrolError("PRECONDITION", `CodeBuild cannot fetch sources from ${remote}`, {
    hint: "CodeBuild reads GitHub, Bitbucket, GitLab and CodeCommit remotes; use builder: buildah for others",
  });
}

function whereLogs(build: Build): string | undefined {
  if (build.logs?.deepLink) return build.logs.deepLink;
  if (build.logs?.groupName)
    return `CloudWatch Logs ${build.logs.groupName} ${build.logs.streamName ?? ""}`.trim();
  return undefined;
}

function buildFailed(build: Build): KubecontrolError {
  const phase = (build.phases ?? []).find((p) => p.phaseStatus && p.phaseStatus !== "SUCCEEDED");
  const why = phase
    ? ` in ${phase.phaseType}${phase.contexts?.[0]?.message ? `: ${phase.contexts[0].message}` : ""}`
    : "";
  const logs = whereLogs(build) ?? `CloudWatch Logs ${LOG_GROUP}`;
  const status = build.buildStatus ?? "UNKNOWN";
  return new KubecontrolError(
    status === "TIMED_OUT" ? "TIMEOUT" : "STEP_FAILED",
    `CodeBuild build ${build.id} ${status}${why}`,
    {
      hint: `read the build's log: ${logs}`,
      details: { builder: "codebuild", buildId: build.id, status, phase: phase?.phaseType, logs },
    },
  );
}
