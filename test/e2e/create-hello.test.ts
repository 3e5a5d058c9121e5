import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type Cli, type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { callCounts, type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: bin/kubecontrol as a real process against the sandbox, checked with the AWS CLI
// and the load balancer itself.

let project: E2eProject;
let sbx: TestSandbox;
let app: string;

/** Runs the CLI; `onStderr` sees its progress as it comes. */
const kubecontrol = (args: string[], accessKeyId = testAccessKeyId(), onStderr?: (text: string) => void) =>
  project.kubecontrol(args, { accessKeyId, onStderr });

beforeAll(async () => {
  project = await e2eProject("hello");
  ({ sbx, app } = project);
}, 120_000);

afterAll(async () => {
  // Everything the app made, app-scoped resources included (what `destroy` will do).
  await project?.cleanup();
}, 120_000);

const READ_ONLY = /^(Describe|List|Get|BatchGet)/;

describe("kubecontrol create, end to end", () => {
  it("given a new colour, a dry run lists every AWS resource, the image, every object and the DNS weight, and changes nothing", async () => {
    // when create --dry-run runs before anything of the app exists
    const key = testAccessKeyId();
    const dry = await kubecontrol(["--json", "create", app, "--dry-run"], key);
    expect(dry.status, dry.stderr).toBe(0);
    const doc = dry.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((d) => d.type === "dry-run") as {
      wouldChange: { step: string }[];
      afterApply: { step: string; changes: string[]; needs: string[] }[];
      errors: unknown[];
    };
    expect(doc.errors).toEqual([]);
    // then every resource of the colour's plan is there: checked, or known after apply
    const listed = [...doc.wouldChange.map((w) => w.step), ...doc.afterApply.map((a) => a.step)];
    for (const step of [
      "ensure-iam-role/cluster",
      "ensure-security-group/lb",
      "ensure-eks-cluster/main",
      "ensure-auto-scaling-group/general",
      "ensure-load-balancer/main",
      "ensure-listener/80",
      "ensure-ecr-repository/app",
      "ensure-image",
      "wait-for-nodes",
      "verify-workloads",
    ])
      expect(listed, step).toContain(step);
    // and what needs the new cluster names each object it would apply
    const objects = doc.afterApply.find((a) => a.step === "ensure-kube-objects");
    expect(objects?.needs).toEqual(expect.arrayContaining(["wait-for-nodes"]));
    expect(objects?.changes).toEqual(expect.arrayContaining(["apply deployment/web", "apply service/web"]));
    // and the DNS weight is the last change, known after apply
    const dns = doc.afterApply.find((a) => a.step.startsWith("shift-dns/"));
    expect(dns, JSON.stringify(doc.afterApply.map((a) => a.step))).toBeDefined();
    // and the text form says the same for a person
    const text = await kubecontrol(["create", app, "--dry-run"], key);
    expect(text.stderr).toMatch(
      /would change {2}ensure-eks-cluster\/main|after apply {3}ensure-eks-cluster\/main/,
    );
    expect(text.stderr).toMatch(/after apply {3}shift-dns\/\S+: weight 100 for kc-\S+-blue/);
    // and nothing was changed: the proxy saw only reads from this key
    const counts = await callCounts(sbx, key);
    const mutating = Object.keys(counts.calls).filter((op) => !READ_ONLY.test(op.split(":")[1] ?? ""));
    expect(mutating, JSON.stringify(counts.calls)).toEqual([]);
  }, 120_000);

  it("creates a colour and points DNS at it, while a second create of the app is refused its lease", async () => {
    // given a fresh app; when create runs, and a second create starts once the first holds the lease
    let second: Promise<Cli> | undefined;
    const first = kubecontrol(["create", app, "--yes"], testAccessKeyId(), (text) => {
      if (!second && /create \S+: \d+ steps/.test(text)) second = kubecontrol(["create", app, "--yes"]);
    });
    const done = await first;
    // then the first succeeds
    expect(done.status, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/created in/);
    // and the second exits 4, naming who holds the lease
    expect(second, "the second create never started").toBeDefined();
    const refused = await second!;
    expect(refused.status, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(/is being deployed by \S+@\S+ \(pid \d+/);

    // and DNS points at the colour's load balancer, which answers 200 through its DNS name
    const [record] = await weightedRecords(sbx, `${app}.example.com`);
    const lbs = (await awsCli(sbx, ["elbv2", "describe-load-balancers", "--names", `kc-${app}-blue`])) as {
      LoadBalancers: { DNSName: string }[];
    };
    const dnsName = lbs.LoadBalancers[0]!.DNSName;
    expect(record).toMatchObject({
      SetIdentifier: `kc-${app}-blue`,
      Weight: 100,
      ResourceRecords: [{ Value: dnsName }],
    });
    const answer = await fetch(`http://${dnsName}/`);
    expect(answer.status).toBe(200);

    // and history has the run
    const history = await kubecontrol(["history", app, "-o", "json"]);
    const runs = (
      JSON.parse(history.stdout) as { runs: { command: string; result: string; colour: string }[] }
    ).runs;
    expect(runs).toContainEqual(
      expect.objectContaining({ command: "create", result: "succeeded", colour: "blue" }),
    );
  }, 120_000);

  it("changes nothing when run again: no mutating AWS call", async () => {
    // given the app created above; when create runs again under an access key of its own
    const key = testAccessKeyId();
    const again = await kubecontrol(["create", app, "--yes"], key);
    // then it succeeds as a no-op, and the proxy saw only reads from it
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing changed/);
    const counts = await callCounts(sbx, key);
    const mutating = Object.keys(counts.calls).filter((op) => !READ_ONLY.test(op.split(":")[1] ?? ""));
    expect(mutating, JSON.stringify(counts.calls)).toEqual([]);
    expect(counts.total).toBeGreaterThan(0);
  }, 60_000);

  it("tears the colour down, refusing while DNS points at it unless forced", async () => {
    // when teardown runs without --force, then it refuses (exit 5) and changes nothing
    const refused = await kubecontrol(["teardown", app, "--colour", "blue", "--yes"]);
    expect(refused.status, refused.stderr).toBe(5);
    expect(refused.stderr).toMatch(/DNS points at/);
    // when forced, then it succeeds and nothing tagged for the colour remains (terminated instances aside)
    const done = await kubecontrol(["teardown", app, "--colour", "blue", "--force", "--yes"]);
    expect(done.status, done.stderr).toBe(0);
    const tagged = (await awsCli(sbx, [
      "resourcegroupstaggingapi",
      "get-resources",
      "--tag-filters",
      `Key=kubecontrol:app,Values=${app}`,
      "Key=kubecontrol:colour,Values=blue",
    ])) as { ResourceTagMappingList: { ResourceARN: string }[] };
    const instances = tagged.ResourceTagMappingList.map((r) => r.ResourceARN).filter((a) =>
      a.includes(":instance/"),
    );
    const live = instances.length
      ? ((await awsCli(sbx, [
          "ec2",
          "describe-instances",
          "--instance-ids",
          ...instances.map((a) => a.split("/").pop()!),
          "--query",
          "Reservations[].Instances[?State.Name!='terminated'][].InstanceId",
        ])) as string[])
      : [];
    const rest = tagged.ResourceTagMappingList.map((r) => r.ResourceARN).filter(
      (a) => !a.includes(":instance/"),
    );
    expect([...rest, ...live]).toEqual([]);
    const clusters = (await awsCli(sbx, ["eks", "list-clusters"])) as { clusters: string[] };
    expect(clusters.clusters).not.toContain(`kc-${app}-blue`);
  }, 60_000);
});
