import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { registerWebhookSecret } from "../../src/config/config.js";
import { redact, registerSecret } from "../../src/io/redact.js";
import { describeDeliveries, type Notice, noticeBody, sendNotifications } from "../../src/notify/webhook.js";

// Notifications are posted to real HTTP receivers on loopback (node:http): one that takes them,
// one that fails once, one that never answers, one that refuses for good.

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const servers: { close(): void; closeAllConnections(): void }[] = [];

async function receiver(handle: Handler): Promise<{ url: (path: string) => string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      bodies.push(body);
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, bodies };
}

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

const notice: Notice = {
  app: "hello",
  command: "update",
  version: "3f9c2e1a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
  result: "failed",
  exitCode: 7,
  durationMs: 252_000,
  runId: "run-20260101000000-abcd1234",
  error: {
    code: "VERIFY_FAILED",
    message: 'GET /healthz answered 503 <html>; password="s3cr3t-value"',
    hint: "look at the pods' logs & run again",
  },
  who: "cron@deploy-1",
};

describe("the notification's body", () => {
  it("is Slack-compatible JSON with app, command, version, result, duration, error, hint and run id, redacted", () => {
    const body = noticeBody(notice);
    expect(body.text.split("\n")).toEqual([
      "❌ update hello failed (exit 7) in 4m12s",
      "version 3f9c2e1a0b1c, run run-20260101000000-abcd1234, by cron@deploy-1",
      'VERIFY_FAILED: GET /healthz answered 503 <html>; password="[REDACTED]"',
      "hint: look at the pods' logs & run again",
    ]);
    const json = JSON.stringify(body.blocks);
    for (const part of ["*App*\\nhello", "*Command*\\nupdate", "*Version*\\n3f9c2e1a0b1c", "failed (exit 7)"])
      expect(json).toContain(part);
    expect(json).toContain("*History run*\\nrun-20260101000000-abcd1234");
    // Slack's markup characters are escaped in blocks
    expect(json).toContain("503 &lt;html&gt;");
    expect(json).toContain("logs &amp; run again");
    expect(json).not.toContain("s3cr3t-value");
  });

  it("says a success without an error", () => {
    const body = noticeBody({ ...notice, result: "no-op", exitCode: 0, error: undefined });
    expect(body.text.split("\n")[0]).toBe("✅ update hello no-op in 4m12s");
    expect(JSON.stringify(body)).not.toContain("Error");
  });
});

describe("sending", () => {
  it("posts to every webhook, and tries again after a 500 until it is taken", async () => {
    let calls = 0;
    const flaky = await receiver((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 500 : 200).end(calls === 1 ? "busy" : "ok");
    });
    const ok = await receiver((_req, res) => res.writeHead(200).end("ok"));
    const body = noticeBody(notice);
    const d = await sendNotifications([flaky.url("/services/T1/B1/aaaa"), ok.url("/hook")], body, {
      timeoutMs: 5_000,
    });
    expect(d).toEqual([
      { target: expect.stringMatching(/^webhook 1 \(127\.0\.0\.1:\d+\)$/), ok: true, attempts: 2 },
      { target: expect.stringMatching(/^webhook 2 \(127\.0\.0\.1:\d+\)$/), ok: true, attempts: 1 },
    ]);
    expect(flaky.bodies).toHaveLength(2);
    expect(JSON.parse(flaky.bodies[1]!)).toEqual(body);
    expect(describeDeliveries(d)).toEqual([
      { level: "info", message: expect.stringMatching(/^notified webhook 1 \(.+\), webhook 2 \(.+\)$/) },
    ]);
  });

  it("gives up on one that never answers within the total time, and the others are not held up", async () => {
    const silent = await receiver(() => {});
    const ok = await receiver((_req, res) => res.writeHead(204).end());
    const t0 = Date.now();
    const d = await sendNotifications([silent.url("/x"), ok.url("/y")], noticeBody(notice), {
      timeoutMs: 1_500,
    });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(2_500);
    expect(d[0]).toEqual({
      target: expect.stringMatching(/^webhook 1 /),
      ok: false,
      attempts: 1,
      reason: "no answer within 1.5s",
    });
    expect(d[1]).toMatchObject({ ok: true, attempts: 1 });
    expect(describeDeliveries(d)[1]).toEqual({
      level: "warn",
      message: expect.stringMatching(
        /^could not notify webhook 1 \(127\.0\.0\.1:\d+\): no answer within 1\.5s \(1 attempt\); the run's result stands$/,
      ),
    });
  });

  it("takes a 4xx other than 429 as final, and waits as long as a 429 asks within the total", async () => {
    const gone = await receiver((_req, res) => res.writeHead(404).end("no_service"));
    let calls = 0;
    const busy = await receiver((_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { "retry-after": "1" }).end();
      else res.writeHead(200).end();
    });
    const d = await sendNotifications([gone.url("/a"), busy.url("/b")], noticeBody(notice), {
      timeoutMs: 4_000,
    });
    expect(d[0]).toMatchObject({ ok: false, attempts: 1, reason: "HTTP 404" });
    expect(d[1]).toMatchObject({ ok: true, attempts: 2 });
    expect(gone.bodies).toHaveLength(1);
  });

  it("says why a refused connection failed, and how many times it tried in the time it had", async () => {
    const closed = await receiver(() => {});
    const url = closed.url("/c");
    for (const s of servers.splice(0)) s.close();
    const d = await sendNotifications([url], noticeBody(notice), { timeoutMs: 2_000 });
    expect(d[0]).toMatchObject({ ok: false, reason: "could not connect (ECONNREFUSED)" });
    expect(d[0]!.attempts).toBeGreaterThanOrEqual(2);
  });
});

describe("a webhook URL is a secret", () => {
  it("is redacted whole, by its path, by its token alone, and encoded", () => {
    const token = "xoxbTOKEN0123456789abcdef";
    const url = `https://hooks.slack.example/services/T0ABCDEF/B0ABCDEF/${token}`;
    registerWebhookSecret(url);
    registerSecret("unrelated-value");
    const texts = [
      `posting to ${url} failed`,
      `POST /services/T0ABCDEF/B0ABCDEF/${token} HTTP/1.1`,
      `token ${token}`,
      encodeURIComponent(url),
      Buffer.from(url).toString("base64"),
      Buffer.from(token).toString("base64"),
      JSON.stringify({ hook: url }),
    ];
    for (const t of texts) expect(redact(t)).not.toContain(token.slice(4, 20));
    for (const t of texts)
      expect(redact(t)).not.toContain(Buffer.from(token).toString("base64").slice(0, 20));
  });
});
