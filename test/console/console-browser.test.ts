import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/apps.js";
import {
  AWS_KEY_ID,
  AWS_SECRET,
  appStatus,
  type ConsoleProcess,
  rawRequest,
  SCRIPT_SUBJECT,
  type Seeded,
  seedStore,
  startConsoleCli,
} from "../helpers/console.js";

// The console as a person meets it: `kubecontrol console` as a real process over a seeded store
// (successful, failed, running and rollback deploys; a commit subject carrying a script; a log line
// carrying an AWS key) and a recorded fleet snapshot, driven in Debian's chromium by playwright-core.
// Screenshots of each page are kept under test-results/console/.

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = path.join(repoRoot, "test-results", "console");

let seeded: Seeded;
let con: ConsoleProcess;
let browser: Browser;
let context: BrowserContext;
/** Console errors and page errors of every page opened (CSP violations are console errors too). */
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: sandbox/setup-apt.sh installs Debian's chromium (run it as root)`,
    );
  const stateDir = path.join(mkdtempSync(path.join(tmpdir(), "kc-console-")), "state");
  mkdirSync(stateDir, { recursive: true });
  seeded = await seedStore(stateDir);
  const now = Date.now();
  const snapshot = path.join(stateDir, "..", "fleet.json");
  writeFileSync(
    snapshot,
    JSON.stringify({
      apps: [
        appStatus("api", {
          health: "deploying",
          live: "green",
          version: "2222222222bb",
          at: now,
          lease: "carol@deploy-1",
        }),
        appStatus("batch", { health: "absent", at: now }),
        appStatus("shop", {
          health: "healthy",
          live: "blue",
          version: "1111111111aaaaaaaaaa1111111111aaaaaaaaaa",
          at: now,
          lastRun: {
            id: "run-shop-4",
            command: "update",
            result: "failed",
            version: "3333",
            who: "alice@deploy-1",
            startedAt: now - 60_000,
            error: "STEP_FAILED",
          },
        }),
        appStatus("web", {
          health: "degraded",
          live: "blue",
          version: "2222222222bb",
          at: now,
          problems: ["1 of 3 workloads ready (deployment/web)"],
        }),
      ],
    }),
  );
  con = await startConsoleCli(["--snapshot", snapshot, "--allow-actions"], {
    KUBECONTROL_STATE_DIR: stateDir,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM });
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await con?.stop();
  await seeded?.store.close();
});

async function open(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${url}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${url}: ${e.message}`));
  await page.goto(url);
  return page;
}

async function loggedIn(): Promise<void> {
  const page = await open(con.login);
  // the redirect took the token out of the address
  expect(page.url()).toBe(`${con.url}/`);
  await page.close();
}

/** Everything the page shows and holds: its HTML after scripts ran, and what its script could see. */
async function assertClean(page: Page): Promise<void> {
  const content = await page.content();
  expect(content).not.toContain(AWS_SECRET);
  expect(content).not.toContain(AWS_KEY_ID);
  expect(content).not.toContain("<script>window.__pwned");
  expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
}

describe("kubecontrol console, in a browser", () => {
  it("answers 401 without the token, and logs a browser in through the link into an HttpOnly, SameSite=Strict cookie", async () => {
    expect((await fetch(`${con.url}/`)).status).toBe(401);
    expect((await fetch(`${con.url}/api/v1/fleet`)).status).toBe(401);
    expect((await fetch(`${con.url}/login?token=not-the-token`, { redirect: "manual" })).status).toBe(401);
    expect(
      (await fetch(`${con.url}/api/v1/fleet`, { headers: { Authorization: "Bearer wrong" } })).status,
    ).toBe(401);
    const bearer = await fetch(`${con.url}/api/v1/fleet`, {
      headers: { Authorization: `Bearer ${con.token}` },
    });
    expect(bearer.status).toBe(200);
    const login = await fetch(con.login, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/");
    expect(login.headers.get("set-cookie")).toMatch(
      /^kc_console=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    await loggedIn();
    const cookies = await context.cookies();
    expect(cookies).toContainEqual(
      expect.objectContaining({ name: "kc_console", httpOnly: true, sameSite: "Strict" }),
    );
  });

  it("answers 421 to a Host that is not a loopback name (DNS rebinding), whatever the token", async () => {
    const auth = { Authorization: `Bearer ${con.token}` };
    for (const host of ["evil.example", `evil.example:${con.port}`, "127.0.0.1.evil.example", "10.0.0.1"]) {
      const r = await rawRequest(`${con.url}/api/v1/fleet`, { headers: { Host: host, ...auth } });
      expect(r.status, host).toBe(421);
    }
    for (const host of [`127.0.0.1:${con.port}`, `localhost:${con.port}`, "[::1]:8080", "localhost"]) {
      const r = await rawRequest(`${con.url}/api/v1/fleet`, { headers: { Host: host, ...auth } });
      expect(r.status, host).toBe(200);
    }
  });

  it("refuses a change without the CSRF token, JSON or this origin (403), and changes nothing", async () => {
    const login = await fetch(con.login, { redirect: "manual" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await open(`${con.url}/apps/web`);
    const csrf = await page.locator('meta[name="kc-csrf"]').getAttribute("content");
    await page.close();
    const body = JSON.stringify({ confirm: "web", why: "test", token: 999 });
    const post = (headers: Record<string, string>, b = body) =>
      rawRequest(`${con.url}/api/v1/apps/web/break-lease`, {
        method: "POST",
        headers: { Host: `127.0.0.1:${con.port}`, ...headers },
        body: b,
      });
    // no CSRF token (cookie session, and bearer alike)
    expect((await post({ Cookie: cookie, "Content-Type": "application/json" })).status).toBe(403);
    expect(
      (await post({ Authorization: `Bearer ${con.token}`, "Content-Type": "application/json" })).status,
    ).toBe(403);
    // a script holding the token gets its CSRF token from /api/v1/session
    const session = await fetch(`${con.url}/api/v1/session`, {
      headers: { Authorization: `Bearer ${con.token}` },
    });
    const bearerCsrf = ((await session.json()) as { csrf: string }).csrf;
    const withCsrf = {
      Authorization: `Bearer ${con.token}`,
      "Content-Type": "application/json",
      "X-CSRF-Token": bearerCsrf,
    };
    expect((await post(withCsrf)).status).toBe(404);
    // a form post (not JSON)
    const sessionCsrf = csrf!;
    expect(
      (await post({ Cookie: cookie, "Content-Type": "text/plain", "X-CSRF-Token": sessionCsrf })).status,
    ).toBe(403);
    // the CSRF token of the browser's session is not this session's
    expect(
      (await post({ Cookie: cookie, "Content-Type": "application/json", "X-CSRF-Token": sessionCsrf }))
        .status,
    ).toBe(403);
    const own = await fetch(`${con.url}/apps/web`, { headers: { Cookie: cookie } });
    const ownCsrf = /name="kc-csrf" content="([^"]+)"/.exec(await own.text())![1]!;
    expect(
      (
        await post({
          Cookie: cookie,
          "Content-Type": "application/json",
          "X-CSRF-Token": ownCsrf,
          Origin: "http://evil.example",
        })
      ).status,
    ).toBe(403);
    // with all three, the change reaches the store (which refuses a lease token that is not the lease's)
    const ok = await post({
      Cookie: cookie,
      "Content-Type": "application/json",
      "X-CSRF-Token": ownCsrf,
      Origin: `http://127.0.0.1:${con.port}`,
    });
    expect(ok.status, ok.body).toBe(404);
    expect(await seeded.store.currentLease("web")).toBeDefined();
  });

  it("shows the fleet with its chips, and keeps the needs-attention and health filters in the URL", async () => {
    const page = await open(`${con.url}/`);
    await expect.poll(() => page.locator("table.fleet tbody tr").count()).toBe(4);
    await page.screenshot({ path: path.join(SHOTS, "fleet.png"), fullPage: true });
    await page.click("#attention");
    expect(new URL(page.url()).searchParams.get("attention")).toBe("1");
    const shown = await page
      .locator("table.fleet tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-app")));
    expect(shown).toEqual(["api", "shop", "web"]);
    await page.reload();
    expect(await page.locator("table.fleet tbody tr").count()).toBe(3);
    await page.click('a.filter:has-text("degraded")');
    const url = new URL(page.url());
    expect([url.searchParams.get("attention"), url.searchParams.get("health")]).toEqual(["1", "degraded"]);
    expect(
      await page
        .locator("table.fleet tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-app"))),
    ).toEqual(["web"]);
    await assertClean(page);
    await page.close();
  });

  it("filters history through a plain GET form whose values round-trip through the URL, and labels the rollback", async () => {
    const page = await open(`${con.url}/history`);
    await page.fill("#f-app", "shop");
    await page.selectOption("#f-result", "succeeded");
    await page.click('form.filters button[type="submit"]');
    const url = new URL(page.url());
    expect([url.pathname, url.searchParams.get("app"), url.searchParams.get("result")]).toEqual([
      "/history",
      "shop",
      "succeeded",
    ]);
    expect(await page.inputValue("#f-app")).toBe("shop");
    expect(await page.inputValue("#f-result")).toBe("succeeded");
    const rows = await page
      .locator("table.history tbody tr")
      .evaluateAll((rs) => rs.map((r) => r.getAttribute("data-run")));
    expect(rows).toEqual(["run-shop-3", "run-shop-2", "run-shop-1"]);
    expect(await page.locator('tr[data-run="run-shop-3"] .chip-rollback').count()).toBe(1);
    expect(await page.locator(".chip-rollback").count()).toBe(1);
    // the commit subject that carries a script is text on the page
    expect(await page.locator('tr[data-run="run-shop-2"] .subject').innerText()).toBe(SCRIPT_SUBJECT);
    await page.screenshot({ path: path.join(SHOTS, "history.png"), fullPage: true });
    await assertClean(page);
    await page.close();
  });

  it("pages history by cursor: every run once, newest first, failed ones included", async () => {
    const page = await open(`${con.url}/history?app=batch`);
    const seen: string[] = [];
    for (;;) {
      seen.push(
        ...(await page
          .locator("table.history tbody tr")
          .evaluateAll((rs) => rs.map((r) => r.getAttribute("data-run")!))),
      );
      if ((await page.locator("#next-page").count()) === 0) break;
      await page.click("#next-page");
      expect(new URL(page.url()).searchParams.get("app")).toBe("batch");
    }
    expect(seen).toHaveLength(seeded.batchRuns);
    expect(new Set(seen).size).toBe(seeded.batchRuns);
    expect(seen[0]).toBe("run-batch-119");
    expect(seen.at(-1)).toBe("run-batch-000");
    await page.close();
  });

  it("shows a failed run with its first error and hint on top, its timeline, events and the difference from the run before, redacted", async () => {
    const page = await open(`${con.url}/runs/${seeded.failedRun}`);
    const error = page.locator("#first-error");
    expect(await error.innerText()).toMatch(/STEP_FAILED/);
    expect(await error.locator(".hint").innerText()).toMatch(/run the same command again/);
    expect(await page.locator("table.timeline tbody tr").count()).toBe(3);
    expect(await page.locator('tr[data-step="ensure-image"] .chip-failed').count()).toBe(1);
    expect(await page.locator("table.diff tr.changed").count()).toBeGreaterThan(0);
    expect(await page.locator("ol.events li").count()).toBeGreaterThan(4);
    await page.screenshot({ path: path.join(SHOTS, "run-failed.png"), fullPage: true });
    await assertClean(page);
    const rollback = await open(`${con.url}/runs/${seeded.rollbackRun}`);
    expect(await rollback.locator("h1 .chip-rollback").count()).toBe(1);
    const cron = await open(`${con.url}/runs/run-shop-2`);
    expect(await cron.locator("#subject").innerText()).toBe(SCRIPT_SUBJECT);
    expect(await cron.locator("table.kv").innerText()).toMatch(/Trigger\s+cron/);
    await assertClean(cron);
    await Promise.all([rollback.close(), cron.close(), page.close()]);
  });

  it("shows a step appended to the store on the open run page within 5 s, through server-sent events", async () => {
    const page = await open(`${con.url}/runs/${seeded.runningRun}`);
    await page.waitForFunction('document.getElementById("live-note")?.textContent === "live"');
    expect(await page.locator("table.timeline tbody tr").count()).toBe(2);
    expect(await page.locator("#stale").isHidden()).toBe(true);
    const appended = Date.now();
    await seeded.store.recordStep(
      {
        runId: seeded.runningRun,
        step: "ensure-kube-objects",
        status: "running",
        startedAt: appended,
        finishedAt: null,
        changed: false,
        output: null,
        error: null,
      },
      seeded.runningFence,
    );
    await page.locator('tr[data-step="ensure-kube-objects"]').waitFor({ timeout: 5000 });
    expect(Date.now() - appended).toBeLessThan(5000);
    // and "as of" says when the server read it: no earlier than the step (to the second it shows)
    const shown = Date.parse((await page.locator("#as-of").innerText()).replace(" ", "T"));
    expect(shown).toBeGreaterThanOrEqual(Math.floor(appended / 1000) * 1000);
    await page.screenshot({ path: path.join(SHOTS, "run-live.png"), fullPage: true });
    await page.close();
  });

  it("breaks a stale lease from the app page once its name is typed, recording who and why", async () => {
    const page = await open(`${con.url}/apps/web`);
    await page.screenshot({ path: path.join(SHOTS, "app.png"), fullPage: true });
    const form = page.locator('form.action[data-action$="/break-lease"]');
    await form.locator('input[name="confirm"]').fill("wrong");
    await form.locator('input[name="why"]').fill("erin's host was reinstalled");
    await form.locator("button").click();
    await expect.poll(() => form.locator("output").innerText()).toMatch(/type web to confirm/);
    expect(await seeded.store.currentLease("web")).toBeDefined();
    await form.locator('input[name="confirm"]').fill("web");
    await form.locator("button").click();
    await expect.poll(() => form.locator("output").innerText()).toMatch(/^done/);
    expect(await seeded.store.currentLease("web")).toBeUndefined();
    expect((await seeded.store.getRun("run-web-2"))?.run.result).toBe("interrupted");
    const [action] = await seeded.store.listActions("web");
    expect(action).toMatchObject({
      action: "break-lease",
      why: "erin's host was reinstalled",
      result: "succeeded",
    });
    expect(action!.who).toMatch(/\(console\)$/);
    await page.reload();
    expect(await page.locator("section").last().innerText()).toMatch(/erin's host was reinstalled/);
    await page.close();
  });

  it("logged no console error and ran no script of the data on any page", () => {
    expect(errors).toEqual([]);
  });
});
