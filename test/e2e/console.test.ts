import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/apps.js";
import { type ConsoleProcess, startConsoleCli } from "../helpers/console.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// The console over the real sandbox, as a new user meets it after the Quickstart: after `create`
// the fleet page shows the app live (read from AWS and its cluster), and after `update` the run
// page shows the update's timeline, its trigger and its commit's subject.

const SHOTS = path.join(repoRoot, "test-results", "console");
let p: E2eProject;
let con: ConsoleProcess | undefined;
let browser: Browser;

beforeAll(async () => {
  p = await e2eProject("cons");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await con?.stop();
  await p?.cleanup();
}, 180_000);

describe("kubecontrol console over the sandbox", () => {
  it("shows an app live after create, and an update's timeline on its run page", async () => {
    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const head = p.git("rev-parse", "HEAD");

    con = await startConsoleCli(
      ["--cache", "1s"],
      { ...p.env, AWS_ACCESS_KEY_ID: testAccessKeyId() },
      p.root,
    );
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    context.on("weberror", (e) => errors.push(e.error().message));
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(con.login);
    const row = page.locator(`table.fleet tr[data-app="${p.app}"]`);
    expect(await row.locator(".chip-healthy").count()).toBe(1);
    expect(await row.innerText()).toContain(head.slice(0, 12));
    expect(await row.locator(".chip-blue").count()).toBe(1);
    expect(await page.locator(".note").first().innerText()).toMatch(/Read live/);
    await page.screenshot({ path: path.join(SHOTS, "sandbox-fleet.png"), fullPage: true });

    const version = p.commitChange("A new greeting");
    const updated = await p.kubecontrol(["update", p.app, "--yes"]);
    expect(updated.status, updated.stderr).toBe(0);
    const runs = (await (
      await fetch(`${con.url}/api/v1/runs?app=${p.app}&command=update`, {
        headers: { Authorization: `Bearer ${con.token}` },
      })
    ).json()) as {
      runs: { id: string; version: string; subject: string; trigger: string; result: string }[];
    };
    expect(runs.runs[0]).toMatchObject({ version, subject: "A new greeting", result: "succeeded" });
    expect(["person", "cron"]).toContain(runs.runs[0]!.trigger);

    await page.goto(`${con.url}/runs/${runs.runs[0]!.id}`);
    expect(await page.locator("#subject").innerText()).toBe("A new greeting");
    const steps = page.locator("table.timeline tbody tr");
    expect(await steps.count()).toBeGreaterThan(5);
    expect(await page.locator("table.timeline tbody tr.step-failed").count()).toBe(0);
    expect(await page.locator("table.timeline svg.bar rect").count()).toBe(await steps.count());
    expect(await page.locator("table.kv").innerText()).toContain(
      `${head.slice(0, 12)} → ${version.slice(0, 12)}`,
    );
    await page.screenshot({ path: path.join(SHOTS, "sandbox-run.png"), fullPage: true });

    // and the fleet, read again past the cache, shows the new version live on green
    await page.goto(`${con.url}/`);
    await expect
      .poll(
        async () => {
          await page.reload();
          return row.innerText();
        },
        { timeout: 20_000 },
      )
      .toContain(version.slice(0, 12));
    expect(await row.locator(".chip-green").count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);
});
