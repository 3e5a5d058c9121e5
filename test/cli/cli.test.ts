import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../helpers/apps.js";
import { kubecontrol } from "../helpers/cli.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function tempApps(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kc-apps-"));
  const apps = path.join(dir, "apps");
  mkdirSync(apps);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(apps, name), text);
  return apps;
}

describe("kubecontrol --help", () => {
  it("lists the commands, examples and exit codes", () => {
    const r = kubecontrol(["--help"]);
    expect(r.status).toBe(0);
    for (const word of ["list", "validate", "plan", "config", "sandbox", "Examples:", "Exit codes:"])
      expect(r.stdout).toContain(word);
  });

  it.each(["list", "validate", "plan", "config"])("%s --help has an example", (command) => {
    const r = kubecontrol([command, "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+kubecontrol /);
  });

  it("exits 2 on an unknown command or flag", () => {
    expect(kubecontrol(["deploy-everything"]).status).toBe(2);
    expect(kubecontrol(["list", "--bogus"]).status).toBe(2);
    expect(kubecontrol(["plan", "webapp", "--colour", "purple"]).status).toBe(2);
    expect(kubecontrol(["plan"]).status).toBe(2);
  });
});

describe("kubecontrol list", () => {
  it("shows both example apps in columns", () => {
    const r = kubecontrol(["list"]);
    expect(r.status).toBe(0);
    const [header, ...rows] = r.stdout.trim().split("\n");
    expect(header).toMatch(/^NAME\s+OWNER\s+REGION\s+POOLS\s+COMPONENTS\s+DNS\s+FILE$/);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(["hello", "webapp"]);
  });

  it("prints names only with -o name, and JSON with --json", () => {
    expect(kubecontrol(["list", "-o", "name"]).stdout).toBe("hello\nwebapp\n");
    const json = JSON.parse(kubecontrol(["--json", "list"]).stdout);
    expect(json.apps.map((a: { name: string }) => a.name)).toEqual(["hello", "webapp"]);
    expect(json.apps[1].pools).toEqual(["web", "worker"]);
  });

  it("works from outside the repository, where `kubecontrol` resolves to this package", () => {
    const apps = tempApps({});
    copyFileSync(path.join(repoRoot, "apps/hello.ts"), path.join(apps, "hello.ts"));
    const r = kubecontrol(["--apps", apps, "list", "-o", "name"], { cwd: tmpdir() });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello\n");
  });

  it("ignores helpers in apps/lib and verify hooks", () => {
    const apps = tempApps({ "webapp.verify.ts": "export default async () => {};\n" });
    mkdirSync(path.join(apps, "lib"));
    writeFileSync(path.join(apps, "lib", "shared.ts"), "export const x = 1;\n");
    copyFileSync(path.join(repoRoot, "apps/hello.ts"), path.join(apps, "hello.ts"));
    expect(kubecontrol(["--apps", apps, "list", "-o", "name"]).stdout).toBe("hello\n");
  });
});

describe("kubecontrol validate", () => {
  it("passes the example apps", () => {
    const r = kubecontrol(["validate"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("apps/hello.ts: hello is valid\napps/webapp.ts: webapp is valid\n");
  });

  it("exits 3 on a broken spec, naming the file and the field", () => {
    const apps = tempApps({});
    copyFileSync(
      path.join(repoRoot, "test/fixtures/invalid/08-min-greater-than-max.ts"),
      path.join(apps, "broken.ts"),
    );
    copyFileSync(path.join(repoRoot, "apps/hello.ts"), path.join(apps, "hello.ts"));
    const r = kubecontrol(["--apps", apps, "validate"]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain("hello is valid");
    expect(r.stderr).toContain("broken.ts: invalid KubeApp spec");
    expect(r.stderr).toContain("hardware.web.min: expected min ≤ max, found min 5 > max 3");
  });

  it("reports two apps with one name, naming both files", () => {
    const hello = path.join(repoRoot, "apps/hello.ts");
    const apps = tempApps({});
    copyFileSync(hello, path.join(apps, "hello.ts"));
    copyFileSync(hello, path.join(apps, "hello-copy.ts"));
    const r = kubecontrol(["--apps", apps, "validate"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/two apps are named "hello": .*hello-copy\.ts and .*hello\.ts/);
  });

  it("refuses an app whose name has a colour for a part, saying why (shop and shop-blue)", () => {
    // given shop with a blue pool green-x, and shop-blue with a green pool x: both would be
    // kc-shop-blue-green-x, a launch template and an Auto Scaling Group each
    const hello = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8");
    const app = (name: string, pool: string) =>
      hello
        .replace('name: "hello"', `name: "${name}"`)
        .replace('repository: "hello"', `repository: "${name}"`)
        .replace('record: "hello.example.com"', `record: "${name}.example.com"`)
        .replaceAll("general", pool);
    const apps = tempApps({ "shop.ts": app("shop", "green-x"), "shop-blue.ts": app("shop-blue", "x") });
    const r = kubecontrol(["--apps", apps, "validate"]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/shop-blue\.ts: invalid KubeApp spec/);
    expect(r.stderr).toContain(
      'name: expected a name without "blue" as a hyphen-separated part, found "shop-blue"',
    );
    expect(r.stderr).toContain("kc-shop-blue-green-x");
    expect(r.stderr).not.toMatch(/shop\.ts: invalid/);
  });

  it("refuses two apps that claim one ECR repository or one DNS record, naming both files", () => {
    const hello = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8");
    const renamed = (name: string) => hello.replace('name: "hello"', `name: "${name}"`);
    const repo = tempApps({
      "one.ts": renamed("one").replace('record: "hello.example.com"', 'record: "one.example.com"'),
      "two.ts": renamed("two").replace('record: "hello.example.com"', 'record: "two.example.com"'),
    });
    const r = kubecontrol(["--apps", repo, "validate"]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/two apps claim the ECR repository "hello": .*one\.ts and .*two\.ts/);
    const record = tempApps({
      "one.ts": renamed("one").replace('repository: "hello"', 'repository: "one"'),
      "two.ts": renamed("two").replace('repository: "hello"', 'repository: "two"'),
    });
    const d = kubecontrol(["--apps", record, "validate"]);
    expect(d.status, d.stderr).toBe(3);
    expect(d.stderr).toMatch(/two apps claim the DNS record "hello\.example\.com": .*one\.ts and .*two\.ts/);
  });

  it("reports a spec that calls process.exit while loading, naming it (exit 3), and checks the others", () => {
    const hello = readFileSync(path.join(repoRoot, "apps/hello.ts"), "utf8");
    const apps = tempApps({
      "quitter.ts": `process.exit(0);\n${hello.replace('name: "hello"', 'name: "quitter"')}`,
      "hello.ts": hello,
    });
    const r = kubecontrol(["--apps", apps, "validate"]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/quitter\.ts: the spec it called process\.exit\(0\) while loading/);
    expect(r.stdout).toMatch(/hello\.ts: hello is valid/);
  });

  it("stops a spec that never finishes loading, naming it (exit 3)", () => {
    const apps = tempApps({ "forever.ts": "while (true) {}\nexport default {};\n" });
    const t0 = Date.now();
    const r = kubecontrol(["--apps", apps, "validate"], { env: { KUBECONTROL_SPEC_TIMEOUT: "1" } });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/forever\.ts: the spec it did not finish loading within 1s/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it("refuses an app name that would lead outside the apps directory, before reading anything", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kc-outside-"));
    const apps = path.join(dir, "project", "apps");
    mkdirSync(apps, { recursive: true });
    // a spec outside the apps directory that would say so if it ever ran
    writeFileSync(path.join(dir, "outside.ts"), 'throw new Error("outside.ts was loaded");\n');
    const r = kubecontrol(["--apps", apps, "plan", "../../outside"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      'expected an app\'s name (a DNS label such as "webapp"), found "../../outside"',
    );
    expect(r.stderr).not.toContain("was loaded");
  });

  it("exits 8 for an app that does not exist", () => {
    const r = kubecontrol(["validate", "nope"]);
    expect(r.status).toBe(8);
    expect(r.stderr).toContain('no app named "nope"');
  });

  it("gives every problem as JSON with --json", () => {
    const apps = tempApps({});
    copyFileSync(
      path.join(repoRoot, "test/fixtures/invalid/16-unknown-pool-reference.ts"),
      path.join(apps, "x.ts"),
    );
    const r = kubecontrol(["--json", "--apps", apps, "validate"]);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.errors[0].details.problems[0]).toMatchObject({
      field: "components.web.pool",
      hint: 'did you mean "web"?',
    });
  });
});

describe("kubecontrol plan", () => {
  it("prints the objects and resources as YAML, identical on a second run", () => {
    const a = kubecontrol(["plan", "webapp", "-o", "yaml", "--version", SHA]);
    const b = kubecontrol(["plan", "webapp", "-o", "yaml", "--version", SHA]);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const plan = parse(a.stdout);
    expect(plan.cluster).toBe("kc-webapp-blue");
    expect(plan.aws.map((r: { kind: string }) => r.kind)).toEqual(
      expect.arrayContaining([
        "iam-role",
        "eks-cluster",
        "eks-access-entry",
        "security-group",
        "launch-template",
        "auto-scaling-group",
        "ecr-repository",
        "load-balancer",
        "target-group",
        "listener",
        "route53-record",
      ]),
    );
    expect(plan.kubernetes.map((o: { kind: string }) => o.kind)).toEqual(
      expect.arrayContaining([
        "Namespace",
        "ServiceAccount",
        "Deployment",
        "Service",
        "ConfigMap",
        "DaemonSet",
        "PodDisruptionBudget",
      ]),
    );
  });

  it("resolves the default version to the repository's HEAD commit", () => {
    const r = kubecontrol(["--json", "plan", "hello"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).version).toMatch(/^[0-9a-f]{40}$/);
  });

  it("plans the other colour with --colour green", () => {
    const r = kubecontrol(["plan", "hello", "--colour", "green", "--version", SHA]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("cluster kc-hello-green");
  });

  it("exits 8 for an unknown app and for an unknown version", () => {
    expect(kubecontrol(["plan", "nope"]).status).toBe(8);
    const r = kubecontrol(["plan", "hello", "--version", "no-such-branch"]);
    expect(r.status).toBe(8);
    expect(r.stderr).toContain('version "no-such-branch" of hello is not a commit');
  });
});

describe("kubecontrol config", () => {
  it("shows each value and where it came from", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kc-config-"));
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "imageBuilder: codebuild\nconcurrency: 4\n");
    const r = kubecontrol(["--json", "config"], {
      env: { KUBECONTROL_CONFIG: file, KUBECONTROL_REGION: "eu-west-1" },
    });
    expect(r.status).toBe(0);
    const settings = Object.fromEntries(
      JSON.parse(r.stdout).settings.map((s: { key: string }) => [s.key, s]),
    );
    expect(settings.imageBuilder).toMatchObject({ value: "codebuild", source: { kind: "file", path: file } });
    expect(settings.concurrency).toMatchObject({ value: 4 });
    expect(settings.region).toMatchObject({
      value: "eu-west-1",
      source: { kind: "env", name: "KUBECONTROL_REGION" },
    });
    expect(settings.historyStore).toMatchObject({ value: "sqlite", source: { kind: "default" } });
    expect(settings.interfaceWait).toMatchObject({ value: "10m", source: { kind: "default" } });
  });

  it("exits 3 on a bad setting, naming where it came from", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kc-config-"));
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "imageBuilder: docker\nregoin: us-east-1\n");
    const r = kubecontrol(["config"], { env: { KUBECONTROL_CONFIG: file } });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${file}: imageBuilder: expected buildah or codebuild`);
    expect(r.stderr).toContain('did you mean "region"?');
  });

  it("exits 3 on a lockTimeout too short to act within, naming both settings", () => {
    // a run stops acting requestTimeout + 5s + 2s (37s) before its lease expires
    const r = kubecontrol(["config"], { env: { KUBECONTROL_LOCK_TIMEOUT: "60s" } });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain('$KUBECONTROL_LOCK_TIMEOUT: lockTimeout: expected at least 74s, found "60s"');
    expect(r.stderr).toContain("requestTimeout 30s (default)");
    const ok = kubecontrol(["config"], {
      env: { KUBECONTROL_LOCK_TIMEOUT: "60s", KUBECONTROL_REQUEST_TIMEOUT: "20s" },
    });
    expect(ok.status, ok.stderr).toBe(0);
  });
});
