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
  it("gives each scheduled app an update line with absolute paths, --yes, --wait-lock and a log", () => {
    const r = kubecontrol(["--apps", appsDir, "crontab"], { env: { KUBECONTROL_STATE_DIR: "/var/lib/kc" } });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^# kubecontrol: unattended deployments/);
    // webapp is scheduled every six hours; hello has no schedule
    expect(lines.slice(1)).toEqual([
      `0 */6 * * * mkdir -p /var/lib/kc/logs && cd ${repoRoot} && ${process.execPath} ${repoRoot}/bin/kubecontrol --apps ${appsDir} --json update webapp --yes --wait-lock 30m >> /var/lib/kc/logs/webapp.log 2>&1`,
    ]);
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

    const r = kubecontrol(["--apps", dir, "crontab", "--user", "deploy", "--wait-lock", "5m", "-o", "json"]);

    expect(r.status, r.stderr).toBe(0);
    const { entries } = JSON.parse(r.stdout) as { entries: { app: string; command: string; line: string }[] };
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ app: "hello", command: "rollout" });
    expect(entries[0]!.line).toMatch(/^\*\/15 \* \* \* 1-5 deploy mkdir -p /);
    expect(entries[0]!.line).toContain(
      `--apps '${dir.replaceAll("%", "\\%")}' --json rollout hello --yes --wait-lock 5m`,
    );
    expect(entries[0]!.line).not.toMatch(/[^\\]%/);
  });

  it("refuses a wait that is not a duration (exit 2), printing no line", () => {
    const r = kubecontrol(["--apps", appsDir, "crontab", "--wait-lock", "soon"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('--wait-lock: expected a duration such as "90s" or "30m", found "soon"');
  });
});
