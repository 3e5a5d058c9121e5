import type { Build, CreateProjectInput, SourceAuth } from "@aws-sdk/client-codebuild";
import { stringify } from "yaml";
import { hasCode } from "../aws/errors.js";
import { KubecontrolError } from "../errors.js";
import { resourceName } from "../plan/names.js";
import { assertOwned } from "../plan/ownership.js";
import { waitUntil } from "../wait.js";
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
  /**
   * How CodeBuild reads a private repository: the ARN of a CodeConnections connection, or of a
   * Secrets Manager secret holding a token (the spec's `image.codeBuild.sourceCredentials`).
   */
  sourceCredentials?: string;
  /** How long CreateProject may wait for IAM to let CodeBuild assume a new role (default 2 min). */
  rolePropagationMs?: number;
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
    preflight: (source) => void codeBuildSource(source.app, source.remote, o.sourceCredentials),
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
  codeBuildSource(req.app, req.remote, o.sourceCredentials);
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
    await onceRoleAssumable(o, req, desired.serviceRole, () => o.api.createProject(desired));
    return;
  }
  const drifted =
    existing.source?.location !== desired.source.location ||
    existing.source?.buildspec !== desired.source.buildspec ||
    existing.source?.auth?.type !== desired.source.auth?.type ||
    existing.source?.auth?.resource !== desired.source.auth?.resource ||
    existing.environment?.image !== desired.environment.image ||
    existing.serviceRole !== desired.serviceRole;
  if (drifted) {
    req.progress(`codebuild: updating project ${name}`);
    await onceRoleAssumable(o, req, desired.serviceRole, () => o.api.updateProject(desired));
  }
}

/**
 * Runs a project change, trying again while CodeBuild answers that it may not assume the service
 * role: a role made a moment ago (ensureServiceRole) takes seconds to a minute to reach CodeBuild.
 */
async function onceRoleAssumable(
  o: CodeBuildOptions,
  req: BuildRequest,
  role: string | undefined,
  change: () => Promise<void>,
): Promise<void> {
  const refused = (err: unknown) =>
    hasCode(err, "InvalidInputException") && /not authorized to perform:? sts:AssumeRole/i.test(String(err));
  let told = false;
  await waitUntil(
    async () => {
      try {
        await change();
        return { done: true, value: undefined };
      } catch (err) {
        if (!refused(err)) throw err;
        if (!told) req.progress(`codebuild: waiting for IAM to let CodeBuild assume ${role}`);
        told = true;
        return { done: false, state: `CodeBuild may not assume ${role} yet` };
      }
    },
    {
      what: `CodeBuild to be allowed to assume ${role}`,
      timeoutMs: o.rolePropagationMs ?? 120_000,
      initialDelayMs: 1000,
      maxDelayMs: 10_000,
      ...(req.signal ? { signal: req.signal } : {}),
    },
  ).catch((err: unknown) => {
    if (err instanceof KubecontrolError && err.code === "TIMEOUT")
      throw new KubecontrolError("PRECONDITION", `CodeBuild may not assume the build role ${role}`, {
        hint: "the role must exist and trust codebuild.amazonaws.com (sts:AssumeRole); IAM changes can take a minute to reach CodeBuild, so run the command again",
        cause: err,
      });
    throw err;
  });
}

/**
 * Where CodeBuild fetches the app's source: its remote without credentials, and the source type.
 * Refuses (PRECONDITION, exit 5) a source CodeBuild cannot fetch: none, SSH (with its https form),
 * or a host CodeBuild does not read. The builder's preflight runs it before anything is made.
 */
export function codeBuildSource(
  app: string,
  remote: string | undefined,
  sourceCredentials?: string,
): { type: NonNullable<CreateProjectInput["source"]>["type"]; location: string } {
  if (!remote) {
    throw new KubecontrolError(
      "PRECONDITION",
      `CodeBuild cannot fetch the source of ${app}: it has no git remote`,
      {
        hint: "give the app's source a remote (image.source.git, or an origin remote), or use builder: buildah",
      },
    );
  }
  const location = splitRemote(remote).url;
  const https = httpsForm(location);
  if (https !== undefined) {
    throw new KubecontrolError(
      "PRECONDITION",
      `CodeBuild cannot fetch ${app}'s source over SSH (${location})`,
      {
        hint: `give the source as ${https}${sourceCredentials ? "" : " (a private repository also needs image.codeBuild.sourceCredentials)"}, or use builder: buildah`,
      },
    );
  }
  return { type: sourceType(remote), location };
}

function projectDefinition(
  o: CodeBuildOptions,
  req: BuildRequest,
  name: string,
): CreateProjectInput & {
  source: NonNullable<CreateProjectInput["source"]>;
  environment: NonNullable<CreateProjectInput["environment"]>;
} {
  const { type, location } = codeBuildSource(req.app, req.remote, o.sourceCredentials);
  return {
    name,
    description: `kubecontrol image builds of ${req.app}`,
    // Credentials never go into the project (AWS keeps its source location, and shows it): a
    // private repository is read through a connection or a secret the project names.
    source: {
      type,
      location,
      buildspec: buildspec(req),
      ...(o.sourceCredentials ? { auth: sourceAuth(o.sourceCredentials) } : {}),
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

/**
 * The buildspec: log in to ECR, build at the context, push, export the pushed digest. Built as
 * data and written by a YAML library, so a build argument with `: `, `#` or a newline stays one
 * argument of one command; each value is quoted for the shell that runs the command.
 */
export function buildspec(req: Pick<BuildRequest, "context" | "dockerfile" | "buildArgs">): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const args = Object.entries(req.buildArgs).map(([k, v]) => ` --build-arg ${q(`${k}=${v}`)}`);
  const spec = {
    version: 0.2,
    env: { "exported-variables": ["IMAGE_DIGEST"] },
    phases: {
      pre_build: {
        commands: [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
          'aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE_URI%%/*}"',
        ],
      },
      build: {
        "on-failure": "ABORT",
        commands: [
          `docker build -f ${q(`${req.context}/${req.dockerfile}`)} -t "$IMAGE_URI:$IMAGE_TAG"${args.join("")} ${q(req.context)}`,
        ],
      },
      post_build: {
        commands: [
          'docker push "$IMAGE_URI:$IMAGE_TAG"',
          `IMAGE_DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE_URI:$IMAGE_TAG" | cut -d@ -f2)`,
        ],
      },
    },
  };
  return stringify(spec, { lineWidth: 0 });
}

/** The https form of an SSH git remote (`git@host:path`, `ssh://[user@]host[:port]/path`); undefined for others. */
export function httpsForm(remote: string): string | undefined {
  const url = /^(?:ssh|git\+ssh):\/\/(?:[^@/]+@)?([^:/]+)(?::\d+)?\/(.+)$/i.exec(remote);
  if (url) return `https://${url[1]}/${url[2]}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return undefined;
  const scp = /^(?:[^@/]+@)?([^:/]+):\/*(.+)$/.exec(remote);
  return scp ? `https://${scp[1]}/${scp[2]}` : undefined;
}

/** The project's source auth for a connection or secret ARN. */
function sourceAuth(arn: string): SourceAuth {
  return {
    type: /^arn:[^:]+:secretsmanager:/.test(arn) ? "SECRETS_MANAGER" : "CODECONNECTIONS",
    resource: arn,
  };
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
