import { execFileSync } from "node:child_process";
import type { Build, CreateProjectInput, Project } from "@aws-sdk/client-codebuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ensureImageBuildRole } from "../../src/engine/steps/images/image-build-role.js";
import type { KubecontrolError } from "../../src/errors.js";
import { builderName } from "../../src/images/choose-builder.js";
import { type CodeBuildApi, sdkCodeBuildApi } from "../../src/images/codebuild-api.js";
import {
  buildspec,
  type CodeBuildOptions,
  codeBuildBuilder,
  codeBuildProjectName,
  httpsForm,
} from "../../src/images/codebuild-builder.js";
import { ensureImage } from "../../src/images/ensure-image.js";
import { awsCli } from "../aws/stack-fixture.js";
import { type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { type HelloProject, helloProject } from "./image-fixture.js";

let sbx: TestSandbox;
let project: HelloProject;

beforeAll(async () => {
  sbx = await testSandbox();
  project = await helloProject(sbx);
  // CodeBuild fetches the source itself; the throwaway repository names a remote it would use.
  execFileSync("git", [
    "-C",
    project.root,
    "remote",
    "add",
    "origin",
    "https://github.com/example/hello.git",
  ]);
});

afterAll(() => project?.dispose());

/** Ensures the image of the app `<repository>-app` with CodeBuild through `api`, as a deploy would. */
function ensureWith(
  api: CodeBuildApi,
  version: string,
  progress: string[] = [],
  o: Partial<CodeBuildOptions> = {},
) {
  return ensureImage({
    app: { ...project.app, name: `${project.repository}-app` },
    projectRoot: project.root,
    version,
    stateDir: project.stateDir,
    ecr: project.ecr,
    builder: async () => codeBuildBuilder({ api, pollInitialMs: 20, pollMaxMs: 50, ...o }),
    progress: (m) => progress.push(m),
  });
}

/** Makes (or finds) the app's build role in the sandbox, as the CodeBuild builder of a deploy does. */
const ensureRole = (app: string, signal?: AbortSignal) =>
  ensureImageBuildRole(app, "team-test", project.aws, signal);

describe("images built by CodeBuild, against moto", () => {
  it("given a missing image, when built, then the app's project builds at the commit, and a build that pushed nothing fails", async () => {
    const api = await sdkCodeBuildApi(project.aws);
    const progress: string[] = [];
    const err = await ensureWith(api, project.initialCommit, progress, {
      ensureServiceRole: ensureRole,
    }).catch((e: unknown) => e);
    // moto reports SUCCEEDED on the first poll and builds nothing: ECR, checked after, has no image.
    expect((err as KubecontrolError).code).toBe("STEP_FAILED");
    expect((err as KubecontrolError).message).toContain("codebuild reported success but ECR has no image");
    const name = codeBuildProjectName(`${project.repository}-app`);
    const made = (await api.getProject(name)) as Project;
    expect(made.source?.location).toBe("https://github.com/example/hello.git");
    expect(made.source?.buildspec).toContain("docker build -f 'apps/hello/Dockerfile'");
    expect(made.serviceRole).toMatch(/^arn:aws:iam::\d{12}:role\/kc-/);
    const [build] = await api.recentBuilds(name);
    expect(build?.sourceVersion).toBe(project.initialCommit);
    expect(build?.buildStatus).toBe("SUCCEEDED");
    expect(progress).toContain(`codebuild: creating project ${name}`);
    // the role was made a moment before: CodeBuild may not assume it until IAM has caught up
    expect(
      progress.filter((m) => m.startsWith("codebuild: waiting for IAM to let CodeBuild assume")),
    ).toHaveLength(1);
    expect(progress).toContain("codebuild: BUILD SUCCEEDED");
  });

  it("given the project exists, when built again, then it is adopted, not created twice", async () => {
    const api = await sdkCodeBuildApi(project.aws);
    const progress: string[] = [];
    await ensureWith(api, project.initialCommit, progress, { ensureServiceRole: ensureRole }).catch(
      () => undefined,
    );
    expect(progress.some((m) => m.startsWith("codebuild: creating project"))).toBe(false);
    expect(progress.some((m) => m.startsWith("codebuild: started build"))).toBe(true);
  });

  it("given source credentials, then the project reads the repository with them (the project is updated)", async () => {
    const api = await sdkCodeBuildApi(project.aws);
    const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:github-token-AbCdEf";
    const progress: string[] = [];
    await ensureWith(api, project.initialCommit, progress, {
      ensureServiceRole: ensureRole,
      sourceCredentials: secret,
    }).catch(() => undefined);
    const name = codeBuildProjectName(`${project.repository}-app`);
    expect(progress).toContain(`codebuild: updating project ${name}`);
    const made = (await api.getProject(name)) as Project;
    expect(made.source?.auth).toEqual({ type: "SECRETS_MANAGER", resource: secret });
    expect(made.source?.location).toBe("https://github.com/example/hello.git");
  });
});

describe("the project's source", () => {
  it("refuses an SSH remote before any CodeBuild call, giving its https form", async () => {
    const { api, calls } = standInCodeBuild([{ buildStatus: "SUCCEEDED" }]);
    const err = (await codeBuildBuilder({ api, serviceRole: "arn:aws:iam::123456789012:role/build" })
      .build({
        app: "private",
        repository: {
          name: "private",
          uri: "127.0.0.1:1/private",
          accountId: "123456789012",
          region: "us-east-1",
        },
        commit: project.initialCommit,
        gitDir: project.root,
        remote: "git@github.com:example/private.git",
        context: ".",
        dockerfile: "Dockerfile",
        buildArgs: {},
        registryAuth: () => Promise.reject(new Error("not needed")),
        progress: () => {},
      })
      .catch((e: unknown) => e)) as KubecontrolError;
    expect(err.code).toBe("PRECONDITION");
    expect(err.message).toContain("over SSH (git@github.com:example/private.git)");
    expect(err.hint).toContain("https://github.com/example/private.git");
    expect(calls).toEqual({ startBuild: 0, createProject: 0 });
  });

  it("knows the https form of each SSH form, and none for others", () => {
    expect(httpsForm("git@github.com:example/hello.git")).toBe("https://github.com/example/hello.git");
    expect(httpsForm("ssh://git@gitlab.com:2222/group/sub/app.git")).toBe(
      "https://gitlab.com/group/sub/app.git",
    );
    expect(httpsForm("git+ssh://bitbucket.org/team/app")).toBe("https://bitbucket.org/team/app");
    expect(httpsForm("https://github.com/example/hello.git")).toBeUndefined();
    expect(httpsForm("/srv/git/hello.git")).toBeUndefined();
  });
});

describe("the buildspec", () => {
  it("keeps a build argument with ': ', '#', a quote or a newline one argument of one command", () => {
    const buildArgs = {
      PLAIN: "1",
      COLON: "a: b",
      HASH: "x # not a comment",
      QUOTE: "it's",
      LINES: "one\ntwo",
    };
    const spec = parse(buildspec({ context: "apps/hello", dockerfile: "Dockerfile", buildArgs })) as {
      version: number;
      phases: Record<string, { commands: string[] }>;
    };
    expect(spec.version).toBe(0.2);
    const commands = spec.phases.build!.commands;
    expect(commands).toHaveLength(1);
    // what the shell CodeBuild runs the command with hands to docker, one argument per line
    const argv = execFileSync(
      "sh",
      ["-c", `docker() { printf '<%s>\\n' "$@"; }; IMAGE_URI=r IMAGE_TAG=t; ${commands[0]}`],
      { encoding: "utf8" },
    );
    expect(argv).toBe(
      [
        "build",
        "-f",
        "apps/hello/Dockerfile",
        "-t",
        "r:t",
        ...Object.entries(buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
        "apps/hello",
      ]
        .map((a) => `<${a}>\n`)
        .join(""),
    );
  });
});

describe("the image-build role", () => {
  it("may read the app's source credentials, and only them, while the spec names them", async () => {
    const app = `${project.repository}-creds`;
    const role = `kc-${app}-image-build`;
    const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:github-token-AbCdEf";
    const policy = async () =>
      ((await awsCli(sbx, ["iam", "list-role-policies", "--role-name", role])) as { PolicyNames: string[] })
        .PolicyNames;

    await ensureImageBuildRole(app, "team-test", project.aws, undefined, secret);
    expect(await policy()).toEqual(["source-credentials"]);
    const doc = (await awsCli(sbx, [
      "iam",
      "get-role-policy",
      "--role-name",
      role,
      "--policy-name",
      "source-credentials",
    ])) as { PolicyDocument: { Statement: { Action: string[]; Resource: string }[] } };
    expect(doc.PolicyDocument.Statement).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secret },
    ]);

    // the spec no longer names them: the role no longer may read them
    await ensureImageBuildRole(app, "team-test", project.aws);
    expect(await policy()).toEqual([]);
  });

  it("is made for the app's project (trusting CodeBuild, able to push and log), and found the second time", async () => {
    // given an app whose project is made by a builder that ensures its role
    const api = await sdkCodeBuildApi(project.aws);
    const app = `${project.repository}-role`;
    const calls: string[] = [];
    const ensureServiceRole = async (name: string, signal?: AbortSignal) => {
      calls.push(name);
      return ensureImageBuildRole(name, "team-test", project.aws, signal);
    };
    const build = () =>
      ensureImage({
        app: { ...project.app, name: app },
        projectRoot: project.root,
        version: project.initialCommit,
        stateDir: project.stateDir,
        ecr: project.ecr,
        builder: async () => codeBuildBuilder({ api, ensureServiceRole, pollInitialMs: 20, pollMaxMs: 50 }),
        progress: () => {},
      }).catch(() => undefined); // moto builds nothing: the build itself fails, the project stays

    // when it builds twice
    await build();
    await build();

    // then the role exists once, trusts CodeBuild, carries the push and log policies and the app's tag
    const role = (await awsCli(sbx, ["iam", "get-role", "--role-name", `kc-${app}-image-build`])) as {
      Role: { Arn: string; AssumeRolePolicyDocument: unknown; Tags?: { Key: string; Value: string }[] };
    };
    expect(JSON.stringify(role.Role.AssumeRolePolicyDocument)).toContain("codebuild.amazonaws.com");
    expect(role.Role.Tags).toEqual(expect.arrayContaining([{ Key: "kubecontrol:app", Value: app }]));
    const attached = (await awsCli(sbx, [
      "iam",
      "list-attached-role-policies",
      "--role-name",
      `kc-${app}-image-build`,
    ])) as { AttachedPolicies: { PolicyName: string }[] };
    expect(attached.AttachedPolicies.map((p) => p.PolicyName).sort()).toEqual([
      "AmazonEC2ContainerRegistryPowerUser",
      "CloudWatchLogsFullAccess",
    ]);
    // and the project runs its builds as that role
    const made = (await api.getProject(codeBuildProjectName(app))) as Project;
    expect(made.serviceRole).toBe(role.Role.Arn);
    expect(calls).toEqual([app, app]);
  });
});

/**
 * A stand-in for CodeBuild, NOT the real service: moto cannot make a build fail or time out,
 * so these paths are played by an in-memory project and a scripted sequence of build states.
 */
function standInCodeBuild(states: Array<Partial<Build>>, running?: Partial<Build>) {
  const calls = { startBuild: 0, createProject: 0 };
  let project: Project | undefined;
  let polls = 0;
  const api: CodeBuildApi = {
    async getProject() {
      return project;
    },
    async createProject(input: CreateProjectInput) {
      calls.createProject++;
      project = { ...input } as Project;
    },
    async updateProject() {},
    async deleteProject() {
      project = undefined;
    },
    async startBuild(input) {
      calls.startBuild++;
      return { id: `${input.projectName}:1`, buildStatus: "IN_PROGRESS", sourceVersion: input.sourceVersion };
    },
    async getBuild(id) {
      const state = states[Math.min(polls++, states.length - 1)];
      return { id, ...state };
    },
    async recentBuilds() {
      return running ? [{ id: "stand-in:running", ...running }] : [];
    },
  };
  return { api, calls };
}

const failedBuild: Partial<Build> = {
  buildStatus: "FAILED",
  phases: [
    { phaseType: "PRE_BUILD", phaseStatus: "SUCCEEDED" },
    {
      phaseType: "BUILD",
      phaseStatus: "FAILED",
      contexts: [{ statusCode: "COMMAND_EXECUTION_ERROR", message: "docker build exited with 1" }],
    },
  ],
  logs: { deepLink: "https://console.aws.amazon.com/cloudwatch/home#logsV2:log-groups/stand-in" },
};

describe("images built by CodeBuild, failures (stand-in for CodeBuild)", () => {
  it("given a build that fails, then the error names its status, phase, reason and where the logs are", async () => {
    const { api } = standInCodeBuild([{ buildStatus: "IN_PROGRESS", currentPhase: "BUILD" }, failedBuild]);
    const err = (await ensureWith(api, project.initialCommit).catch((e: unknown) => e)) as KubecontrolError;
    expect(err.code).toBe("STEP_FAILED");
    expect(err.message).toMatch(/FAILED in BUILD: docker build exited with 1/);
    expect(err.hint).toContain("https://console.aws.amazon.com/cloudwatch/home#logsV2:log-groups/stand-in");
  });

  it("given a build CodeBuild timed out, then it fails with TIMEOUT and its status", async () => {
    const { api } = standInCodeBuild([
      { buildStatus: "TIMED_OUT", phases: [{ phaseType: "BUILD", phaseStatus: "TIMED_OUT" }] },
    ]);
    const err = (await ensureWith(api, project.initialCommit).catch((e: unknown) => e)) as KubecontrolError;
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toContain("TIMED_OUT in BUILD");
  });

  it("given a build that outlasts the wait, then it fails with TIMEOUT saying it keeps running", async () => {
    const { api } = standInCodeBuild([{ buildStatus: "IN_PROGRESS", currentPhase: "BUILD" }]);
    const err = (await ensureWith(api, project.initialCommit, [], { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    )) as KubecontrolError;
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toContain("keeps running in CodeBuild");
  });

  it("given a build already running for the commit, then it is followed, not started again", async () => {
    const { api, calls } = standInCodeBuild([failedBuild], {
      buildStatus: "IN_PROGRESS",
      sourceVersion: project.initialCommit,
    });
    const progress: string[] = [];
    await ensureWith(api, project.initialCommit, progress).catch(() => undefined);
    expect(calls.startBuild).toBe(0);
    expect(progress).toContain(
      `codebuild: following running build stand-in:running at ${project.initialCommit}`,
    );
  });
});

describe("builder choice", () => {
  it("given a spec that names a builder, then it wins over the operator's; otherwise the operator's applies", () => {
    const app = project.app;
    expect(
      builderName({ ...app, image: { ...app.image, builder: "codebuild" } }, { imageBuilder: "buildah" }),
    ).toBe("codebuild");
    expect(
      builderName({ ...app, image: { ...app.image, builder: undefined } }, { imageBuilder: "codebuild" }),
    ).toBe("codebuild");
    expect(
      builderName({ ...app, image: { ...app.image, builder: undefined } }, { imageBuilder: "buildah" }),
    ).toBe("buildah");
  });
});
