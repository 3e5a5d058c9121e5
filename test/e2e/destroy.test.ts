import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { callCounts, type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: `kubecontrol destroy` as a real process against the sandbox, checked with the AWS
// CLI, service by service.

let project: E2eProject;
let sbx: TestSandbox;
let app: string;
const decoy = () => `kc-${app}-decoy`;

/** Runs the CLI without a terminal (stdin is not a TTY), signing with `accessKeyId`. */
const kubecontrol = (args: string[], accessKeyId = testAccessKeyId(), env: NodeJS.ProcessEnv = {}) =>
  project.kubecontrol(args, { accessKeyId, env });

const READ_ONLY = /^(Describe|List|Get|BatchGet)/;

async function mutatingCalls(accessKeyId: string): Promise<string[]> {
  const counts = await callCounts(sbx, accessKeyId);
  return Object.keys(counts.calls).filter((op) => !READ_ONLY.test(op.split(":")[1] ?? ""));
}

// biome-ignore lint/suspicious/noExplicitAny: the AWS CLI's JSON, read field by field
type Json = any;
const cli = (args: string[]) => awsCli(sbx, args) as Promise<Json>;

async function clusterExists(): Promise<boolean> {
  return ((await cli(["eks", "list-clusters"])).clusters as string[]).includes(`kc-${app}-blue`);
}

async function repositoryExists(): Promise<boolean> {
  const repos = (await cli(["ecr", "describe-repositories"])).repositories as { repositoryName: string }[];
  return repos.some((r) => r.repositoryName === app);
}

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole" },
  ],
});

/** Runs `call` until it succeeds, for at most 20 s. */
async function sandboxRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let deadline = Date.now() + 20_000; ; ) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

beforeAll(async () => {
  project = await e2eProject("gone");
  ({ sbx, app } = project);

  const created = await kubecontrol(["create", app, "--yes"]);
  expect(created.status, created.stderr).toBe(0);
  // What other tools made for the app: the CodeBuild project the CodeBuild builder makes, and a
  // build role tagged for the app with an inline policy; and a role under the app's name prefix
  // tagged for another app, which must survive.
  for (const [role, owner] of [
    [`kc-${app}-image-build`, app],
    [decoy(), `${app}-other`],
  ] as const)
    await cli([
      "iam",
      "create-role",
      "--role-name",
      role,
      "--assume-role-policy-document",
      TRUST,
      "--tags",
      `Key=kubecontrol:app,Value=${owner}`,
    ]);
  await cli([
    "iam",
    "put-role-policy",
    "--role-name",
    `kc-${app}-image-build`,
    "--policy-name",
    "push",
    "--policy-document",
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "*" }],
    }),
  ]);
  // CodeBuild may assume a new role only once IAM has caught up (the sandbox's iamPropagationSeconds).
  await sandboxRetry(() =>
    cli([
      "codebuild",
      "create-project",
      "--name",
      `kc-${app}-image`,
      "--source",
      "type=GITHUB,location=https://github.com/example/hello.git,buildspec=version: 0.2",
      "--artifacts",
      "type=NO_ARTIFACTS",
      "--environment",
      "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL",
      "--service-role",
      `arn:aws:iam::123456789012:role/kc-${app}-image-build`,
      "--tags",
      `key=kubecontrol:app,value=${app}`,
    ]),
  );
}, 240_000);

afterAll(async () => {
  // Whatever a failed test left, app-scoped resources included, and what the test made for the app.
  if (!project) return;
  await project.cleanup();
  for (const role of [decoy(), `kc-${app}-image-build`]) {
    await cli(["iam", "delete-role-policy", "--role-name", role, "--policy-name", "push"]).catch(() => {});
    await cli(["iam", "delete-role", "--role-name", role]).catch(() => {});
  }
  await cli(["codebuild", "delete-project", "--name", `kc-${app}-image`]).catch(() => {});
}, 120_000);

describe("kubecontrol destroy, end to end", () => {
  it("refuses without a terminal and without --yes (exit 2), after listing, and changes nothing", async () => {
    // given the created app; when destroy runs with no terminal to ask on
    const key = testAccessKeyId();
    const refused = await kubecontrol(["destroy", app], key);
    // then it exits 2 with a hint, having listed what it would delete
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/refusing to destroy .* without a terminal/);
    expect(refused.stderr).toMatch(/pass --yes/);
    expect(refused.stderr).toMatch(new RegExp(`EKS cluster +kc-${app}-blue +arn:aws:eks:`));
    // and nothing was changed: no mutating call, the cluster and the repository still there
    expect(await mutatingCalls(key)).toEqual([]);
    expect(await clusterExists()).toBe(true);
    expect(await repositoryExists()).toBe(true);
  }, 60_000);

  it("--dry-run lists every live resource by kind, name and ARN, and changes nothing", async () => {
    const key = testAccessKeyId();
    const dry = await kubecontrol(["--json", "destroy", app, "--dry-run"], key);
    expect(dry.status, dry.stderr).toBe(0);
    const doc = dry.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((d) => d.type === "destroy-plan") as {
      resources: { kind: string; name: string; colour?: string; ref?: string }[];
      kept: string[];
    };
    const listed = doc.resources.map((r) => `${r.kind} ${r.name}`);
    expect(listed).toEqual(
      expect.arrayContaining([
        `eks-cluster kc-${app}-blue`,
        `auto-scaling-group kc-${app}-blue-general`,
        `load-balancer kc-${app}-blue`,
        `target-group kc-${app}-blue-web`,
        `route53-record ${app}.example.com/kc-${app}-blue`,
        `ecr-repository ${app}`,
        `iam-role kc-${app}-cluster`,
        `iam-role kc-${app}-node`,
        `iam-instance-profile kc-${app}-node`,
        `codebuild-project kc-${app}-image`,
        `iam-role kc-${app}-image-build`,
      ]),
    );
    expect(listed).not.toContain(`iam-role ${decoy()}`);
    const role = doc.resources.find((r) => r.name === `kc-${app}-cluster`);
    expect(role?.ref).toMatch(/^arn:aws:iam::\d{12}:role\/kc-/);
    expect(doc.kept.join(", ")).toMatch(/hosted zone example\.com.*Secrets Manager.*VPC/);
    // and the same, for people, without --json
    const text = await kubecontrol(["destroy", app, "--dry-run"], key);
    expect(text.stderr).toMatch(new RegExp(`ECR repository +${app} \\(1 image\\) +arn:aws:ecr:`));
    expect(text.stderr).toMatch(/nothing was changed/);
    expect(await mutatingCalls(key)).toEqual([]);
    expect(await clusterExists()).toBe(true);
  }, 60_000);

  it("killed mid-destroy, a re-run with --yes finishes, and nothing of the app is left", async () => {
    const secretNames = async () =>
      ((await cli(["secretsmanager", "list-secrets"])).SecretList as { Name: string }[]).map((s) => s.Name);
    const secretsBefore = await secretNames();
    // when destroy is killed right after it asked for the load balancer's deletion
    const killed = await kubecontrol(["destroy", app, "--yes"], testAccessKeyId(), {
      KUBECONTROL_FAILPOINTS: "delete-load-balancer/blue/main:after-apply",
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(killed.stderr).toMatch(/failpoint delete-load-balancer\/blue\/main:after-apply/);
    // then the app-scoped resources, which go last, are still there
    expect(await repositoryExists()).toBe(true);

    // when it runs again, then it finishes (exit 0), listing only what was left
    const again = await kubecontrol(["destroy", app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/destroyed in/);
    expect(again.stderr).not.toMatch(/load balancer +kc-/);

    // and nothing of the app is left, service by service
    expect(await clusterExists()).toBe(false);
    const asgs = (await cli(["autoscaling", "describe-auto-scaling-groups"])).AutoScalingGroups as {
      AutoScalingGroupName: string;
    }[];
    expect(asgs.map((g) => g.AutoScalingGroupName).filter((n) => n.startsWith(`kc-${app}-`))).toEqual([]);
    const lbs = (await cli(["elbv2", "describe-load-balancers"])).LoadBalancers as {
      LoadBalancerName: string;
    }[];
    expect(lbs.map((l) => l.LoadBalancerName).filter((n) => n.startsWith(`kc-${app}-`))).toEqual([]);
    const tgs = (await cli(["elbv2", "describe-target-groups"])).TargetGroups as {
      TargetGroupName: string;
    }[];
    expect(tgs.map((t) => t.TargetGroupName).filter((n) => n.startsWith(`kc-${app}-`))).toEqual([]);
    expect(await repositoryExists()).toBe(false);
    const roles = (await cli(["iam", "list-roles"])).Roles as { RoleName: string }[];
    expect(roles.map((r) => r.RoleName).filter((n) => n.startsWith(`kc-${app}-`))).toEqual([decoy()]);
    const profiles = (await cli(["iam", "list-instance-profiles"])).InstanceProfiles as {
      InstanceProfileName: string;
    }[];
    expect(profiles.map((p) => p.InstanceProfileName).filter((n) => n.startsWith(`kc-${app}-`))).toEqual([]);
    const projects = (await cli(["codebuild", "list-projects"])).projects as string[];
    expect(projects).not.toContain(`kc-${app}-image`);
    const zones = (await cli(["route53", "list-hosted-zones"])).HostedZones as { Id: string; Name: string }[];
    const zone = zones.find((z) => z.Name === "example.com.");
    expect(zone, "the shared hosted zone is kept").toBeDefined();
    const sets = (await cli(["route53", "list-resource-record-sets", "--hosted-zone-id", zone!.Id]))
      .ResourceRecordSets as { Name: string }[];
    expect(sets.filter((s) => s.Name === `${app}.example.com.`)).toEqual([]);
    for (const [service, op, key] of [
      ["ec2", "describe-security-groups", "SecurityGroups"],
      ["ec2", "describe-launch-templates", "LaunchTemplates"],
    ] as const) {
      const found = (await cli([service, op, "--filters", `Name=tag:kubecontrol:app,Values=${app}`]))[key];
      expect(found, `${service} ${op}`).toEqual([]);
    }
    const tagged = (
      (await cli([
        "resourcegroupstaggingapi",
        "get-resources",
        "--tag-filters",
        `Key=kubecontrol:app,Values=${app}`,
      ])) as { ResourceTagMappingList: { ResourceARN: string }[] }
    ).ResourceTagMappingList.map((r) => r.ResourceARN);
    const instances = tagged.filter((a) => a.includes(":instance/")).map((a) => a.split("/").pop()!);
    const running = instances.length
      ? ((await cli([
          "ec2",
          "describe-instances",
          "--instance-ids",
          ...instances,
          "--query",
          "Reservations[].Instances[?State.Name!='terminated'][].InstanceId",
        ])) as string[])
      : [];
    expect([...tagged.filter((a) => !a.includes(":instance/")), ...running]).toEqual([]);
    // and what the app shares with others is kept: the account's secrets (other test files
    // make and delete secrets of their own meanwhile)
    expect(secretsBefore).toContain("webapp/db");
    expect(await secretNames()).toContain("webapp/db");
  }, 180_000);

  it("run again when everything is gone: nothing to remove, no mutating AWS call, and history has every run", async () => {
    const key = testAccessKeyId();
    const noop = await kubecontrol(["destroy", app, "--yes"], key);
    expect(noop.status, noop.stderr).toBe(0);
    expect(noop.stderr).toMatch(/nothing to remove/);
    expect(await mutatingCalls(key)).toEqual([]);

    const history = await kubecontrol(["history", app, "-o", "json"]);
    const runs = (JSON.parse(history.stdout) as { runs: { command: string; result: string }[] }).runs;
    const destroys = runs.filter((r) => r.command === "destroy").map((r) => r.result);
    // newest first: the no-op, the run that finished, the killed one (closed as interrupted on takeover)
    expect(destroys).toEqual(["no-op", "succeeded", "interrupted"]);
  }, 60_000);
});
