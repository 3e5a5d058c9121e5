import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { mutatingCalls, spawnCli } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// One app never adopts, changes or deletes another app's resources. A resource found by one of
// the app's names is acted on only when its kubecontrol tags say it is the app's: another app's
// stops the run before it changes anything (exit 6, naming the owner); one without kubecontrol
// tags is taken over only with --adopt, which its tags then record.

let p: E2eProject;
let q: E2eProject;
let vpcId: string;

beforeAll(async () => {
  [p, q] = await Promise.all([e2eProject("own"), e2eProject("own")]);
  const vpcs = (await awsCli(p.sbx, [
    "ec2",
    "describe-vpcs",
    "--filters",
    "Name=tag:kubecontrol:vpc,Values=main",
  ])) as {
    Vpcs: { VpcId: string }[];
  };
  vpcId = vpcs.Vpcs[0]!.VpcId;
}, 120_000);

afterAll(async () => {
  await Promise.all([p?.cleanup(), q?.cleanup()]);
  for (const name of made) {
    const groups = (await awsCli(p.sbx, [
      "ec2",
      "describe-security-groups",
      "--filters",
      `Name=group-name,Values=${name}`,
    ])) as {
      SecurityGroups: { GroupId: string }[];
    };
    for (const g of groups.SecurityGroups)
      await awsCli(p.sbx, ["ec2", "delete-security-group", "--group-id", g.GroupId]).catch(() => {});
  }
}, 240_000);

const made: string[] = [];

/** A security group made by hand (or another tool) under one of the app's names. */
async function securityGroup(name: string, tags: Record<string, string>): Promise<string> {
  made.push(name);
  const spec = Object.keys(tags).length
    ? [
        "--tag-specifications",
        `ResourceType=security-group,Tags=[${Object.entries(tags)
          .map(([k, v]) => `{Key=${k},Value=${v}}`)
          .join(",")}]`,
      ]
    : [];
  const out = (await awsCli(p.sbx, [
    "ec2",
    "create-security-group",
    "--group-name",
    name,
    "--description",
    "made by hand",
    "--vpc-id",
    vpcId,
    ...spec,
  ])) as { GroupId: string };
  return out.GroupId;
}

async function groupTags(id: string): Promise<Record<string, string>> {
  const out = (await awsCli(p.sbx, ["ec2", "describe-security-groups", "--group-ids", id])) as {
    SecurityGroups: { Tags?: { Key: string; Value: string }[] }[];
  };
  return Object.fromEntries((out.SecurityGroups[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
}

async function clusters(app: string): Promise<string[]> {
  const out = (await awsCli(p.sbx, ["eks", "list-clusters"])) as { clusters: string[] };
  return out.clusters.filter((c) => c.startsWith(`kc-${app}-`));
}

describe("ownership before action", () => {
  it("a create meeting another app's resource under one of its names fails naming the owner, and changes nothing", async () => {
    // given a security group with one of the app's names, tagged for another app
    const id = await securityGroup(`kc-${p.app}-blue-nodes`, { "kubecontrol:app": "someone-else" });
    const before = await groupTags(id);

    // when the app is created
    const key = testAccessKeyId();
    const created = await p.kubecontrol(["create", p.app, "--yes"], { accessKeyId: key });

    // then it fails with exit 6 naming the group and its owner
    expect(created.status, created.stderr).toBe(6);
    expect(created.stderr).toContain(
      `security-group kc-${p.app}-blue-nodes: belongs to someone-else by its kubecontrol tags`,
    );
    expect(created.stderr).toContain("nothing was changed");
    // and the group is as it was, and nothing of the app was made
    expect(await groupTags(id)).toEqual(before);
    expect(await mutatingCalls(p.sbx, key)).toEqual({});
    expect(await clusters(p.app)).toEqual([]);
  }, 240_000);

  it("a resource without kubecontrol's tags is refused, and taken over with --adopt", async () => {
    // given an untagged group under one of the other app's names
    const id = await securityGroup(`kc-${q.app}-blue-lb`, {});
    const refused = await q.kubecontrol(["create", q.app, "--yes"]);
    expect(refused.status, refused.stderr).toBe(6);
    expect(refused.stderr).toContain(`security-group kc-${q.app}-blue-lb: has no kubecontrol tags`);
    expect(refused.stderr).toContain("--adopt");
    expect(await groupTags(id)).toEqual({});

    // when it is adopted
    const adopted = await q.kubecontrol(["create", q.app, "--yes", "--adopt"]);

    // then the app is made around it, and its tags say whose it is now and which run adopted it
    expect(adopted.status, adopted.stderr).toBe(0);
    expect(adopted.stderr).toContain(`adopting security-group kc-${q.app}-blue-lb`);
    const tags = await groupTags(id);
    expect(tags).toMatchObject({ "kubecontrol:app": q.app, "kubecontrol:colour": "blue" });
    expect(tags["kubecontrol:adopted-by"]).toMatch(/^run-/);
  }, 300_000);

  it("destroy of an app whose repository name is another app's leaves that repository and its images", async () => {
    // given q deployed (its repository holds its image), and p's spec naming q's repository
    const images = async () =>
      (
        (await awsCli(p.sbx, ["ecr", "describe-images", "--repository-name", q.app])) as {
          imageDetails: unknown[];
        }
      ).imageDetails.length;
    const count = await images();
    expect(count).toBeGreaterThan(0);
    p.writeSpec((spec) => spec.replace(`repository: "${p.app}"`, `repository: "${q.app}"`));

    // when p is destroyed
    const destroyed = await p.kubecontrol(["destroy", p.app, "--yes"]);

    // then it refuses (exit 6), naming the repository and its owner, and it is still there, whole
    expect(destroyed.status, destroyed.stderr).toBe(6);
    expect(destroyed.stderr).toContain(
      `ecr-repository ${q.app}: belongs to ${q.app} by its kubecontrol tags`,
    );
    expect(await images()).toBe(count);
    p.writeSpec((spec) => spec.replace(`repository: "${q.app}"`, `repository: "${p.app}"`));
  }, 240_000);

  it("a name taken between the check and the create is not taken over", async () => {
    // given a create of a third app paused (SIGSTOP) right before it makes its nodes' group
    const r = await e2eProject("own");
    try {
      let stderr = "";
      const run = spawnCli(["create", r.app, "--yes"], {
        cwd: r.root,
        env: {
          ...r.env,
          KUBECONTROL_FAILPOINTS: "ensure-security-group/nodes:before-apply",
          KUBECONTROL_FAILPOINT_ACTION: "stop",
        },
        accessKeyId: testAccessKeyId(),
        onStderr: (t) => {
          stderr = t;
        },
      });
      const t0 = Date.now();
      while (!stderr.includes("stopping the process")) {
        if (Date.now() - t0 > 120_000) throw new Error(`the create never paused:\n${stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      // when another app takes the name meanwhile, and the create goes on
      const id = await securityGroup(`kc-${r.app}-blue-nodes`, { "kubecontrol:app": "someone-else" });
      process.kill(run.pid, "SIGCONT");
      const done = await run.done;

      // then the create, told the group already exists, refuses to adopt it (exit 6)
      expect(done.status, done.stderr).toBe(6);
      expect(done.stderr).toContain(`security-group kc-${r.app}-blue-nodes belongs to app someone-else`);
      expect(await groupTags(id)).toEqual({ "kubecontrol:app": "someone-else" });
    } finally {
      await r.cleanup();
    }
  }, 300_000);
});
