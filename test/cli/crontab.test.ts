import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appsDir, repoRoot } from "../helpers/apps.js";
import { kubecontrol } from "../helpers/cli.js";

// `kubecontrol crontab`: the cron lines that deploy the apps with a deploy.schedule.

const temp = mkdtempSync(path.join(tmpdir(), "kc crontab %dir-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("kubecontrol crontab", () => {
  it("gives each scheduled app an update line with absolute paths, the configuration file, --yes, --wait-lock and a log", () => {
    const config = path.join(temp, "config.yaml");
    writeFileSync(config, "stateDir: /var/lib/kc\n");
    const r = kubecontrol(["--config", config, "--apps", appsDir, "crontab"]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^# kubecontrol: unattended deployments/);
    // webapp is scheduled every six hours; hello has no schedule
    // and gc runs hourly over every app, the same way
    const start = `umask 007 && mkdir -p /var/lib/kc/logs && cd ${repoRoot} && KUBECONTROL_TRIGGER=cron ${process.execPath} ${repoRoot}/bin/kubecontrol --config '${config.replaceAll("%", "\\%")}' --apps ${appsDir} --json`;
    expect(lines.slice(1)).toEqual([
      `0 */6 * * * ${start} update webapp --yes --wait-lock 30m >> /var/lib/kc/logs/webapp.log 2>&1`,
      `17 * * * * ${start} gc --all --yes --wait-lock 30m >> /var/lib/kc/logs/gc.log 2>&1`,
    ]);
  });

  it("refuses a store or state directory that only this shell's environment names (exit 3): cron would not see it", () => {
    const r = kubecontrol(["--apps", appsDir, "crontab"], {
      env: { KUBECONTROL_HISTORY_STORE: "postgres://kc:hunter2hunter2@db/kc" },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "historyStore comes from $KUBECONTROL_HISTORY_STORE, which cron's runs would not see",
    );
    expect(r.stderr).toContain("--config FILE");
    expect(r.stderr).not.toContain("hunter2hunter2");
  });

  it("refuses a schedule that is not five fields of cron's own characters, naming the file", () => {
    const dir = path.join(temp, "newline", "apps");
    cpSync(path.join(appsDir, "hello"), path.join(dir, "hello"), { recursive: true });
    const spec = readFileSync(path.join(appsDir, "hello.ts"), "utf8").replace(
      "  dns: {",
      '  deploy: { schedule: "0\\n3 * * *" },\n  dns: {',
    );
    writeFileSync(path.join(dir, "hello.ts"), spec);
    const r = kubecontrol(["--apps", dir, "crontab"]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/hello\.ts: invalid KubeApp spec/);
    expect(r.stderr).toContain(
      'deploy.schedule: expected a cron expression: only digits, names, "*", ",", "-" and "/"',
    );
    expect(r.stdout).not.toMatch(/^0\s*$/m);
  });

  it("writes /etc/cron.d lines with --user, rollout for rolling apps, and quotes paths (and cron's %)", () => {
    // given a rolling app with a schedule, in a directory whose name has a space and a %
    const dir = path.join(temp, "apps");
    cpSync(path.join(appsDir, "hello"), path.join(dir, "hello"), { recursive: true });
    const spec = readFileSync(path.join(appsDir, "hello.ts"), "utf8").replace(
      "  dns: {",
      '  deploy: { strategy: "rolling", schedule: "*/15 * * * 1-5" },\n  dns: {',
    );
    writeFileSync(path.join(dir, "hello.ts"), spec);

    const config = path.join(temp, "config.yaml");
    writeFileSync(config, "stateDir: /var/lib/kc\n");
    const r = kubecontrol([
      "--config",
      config,
      "--apps",
      dir,
      "crontab",
      "--user",
      "deploy",
      "--wait-lock",
      "5m",
      "-o",
      "json",
    ]);

    expect(r.status, r.stderr).toBe(0);
    const { entries } = JSON.parse(r.stdout) as { entries: { app: string; command: string; line: string }[] };
    expect(entries.map((e) => e.command)).toEqual(["rollout", "gc"]);
    expect(entries[0]).toMatchObject({ app: "hello", command: "rollout" });
    expect(entries[1]!.line).toMatch(
      /^17 \* \* \* \* deploy umask 007 .* --json gc --all --yes --wait-lock 5m >> /,
    );
    expect(entries[0]!.line).toMatch(/^\*\/15 \* \* \* 1-5 deploy umask 007 && mkdir -p /);
    expect(entries[0]!.line).toContain(
      `--apps '${dir.replaceAll("%", "\\%")}' --json rollout hello --yes --wait-lock 5m`,
    );
    expect(entries[0]!.line).not.toMatch(/[^\\]%/);
  });

  it("leaves gc out with --gc off, and refuses a gc schedule that is not one (exit 2)", () => {
    const config = path.join(temp, "config.yaml");
    writeFileSync(config, "stateDir: /var/lib/kc\n");
    const off = kubecontrol(["--config", config, "--apps", appsDir, "crontab", "--gc", "off"]);
    expect(off.status, off.stderr).toBe(0);
    expect(off.stdout).not.toContain(" gc ");
    const bad = kubecontrol(["--config", config, "--apps", appsDir, "crontab", "--gc", "hourly"]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/--gc: expected a cron schedule or "off"/);
  });

  it("refuses a wait that is not a duration (exit 2), printing no line", () => {
    const r = kubecontrol(["--apps", appsDir, "crontab", "--wait-lock", "soon"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('--wait-lock: expected a duration such as "90s" or "30m", found "soon"');
  });
});
