import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2eProject } from "../helpers/e2e-project.js";
import { e2eProject } from "../helpers/e2e-project.js";

// End to end: the CLI notifies the operator's webhooks at the end of a run, against receivers on
// loopback (node:http): one that answers 500 to each notification's first attempt and 200 to the
// next, one that never answers. The run's result and exit code stay what they were, the time the
// notification adds is bounded by notifyTimeout, and the URLs' tokens appear nowhere: not in
// stdout or stderr (what cron appends to the app's log), the history store, or `config`.
//
// The run that fails is a create whose spec reads a secret that does not exist: preflight fails
// (exit 5) once the run holds the lease and is recorded, before anything is made.

let p: E2eProject;
const tokens = [randomBytes(16).toString("hex"), randomBytes(16).toString("hex")];
const servers: Server[] = [];
/** What the flaky receiver accepted (each after a 500), and every attempt it saw. */
const accepted: { text: string; blocks: unknown[] }[] = [];
let attempts = 0;
let silentCalls = 0;
let configFile: string;
const outputs: { what: string; text: string }[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

function writeConfig(extra: Record<string, string>): void {
  writeFileSync(
    configFile,
    [
      "notifyWebhooks:",
      ...urls.map((u) => `  - ${u}`),
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    ].join("\n"),
  );
}
let urls: string[] = [];

beforeAll(async () => {
  p = await e2eProject("notify", (spec, app) =>
    spec.replace(
      "          resources: {",
      `          envFromSecrets: { TOKEN: "${app}/absent#token" },\n          resources: {`,
    ),
  );
  const seen = new Set<string>();
  const flaky = await listen((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      attempts++;
      if (!seen.has(body)) {
        seen.add(body);
        res.writeHead(500).end("try again");
        return;
      }
      accepted.push(JSON.parse(body));
      res.writeHead(200).end("ok");
    });
  });
  const silent = await listen(() => {
    silentCalls++;
  });
  urls = [
    `http://127.0.0.1:${flaky}/services/T0TEST/B0TEST/${tokens[0]}`,
    `http://127.0.0.1:${silent}/services/T0TEST/B0TEST/${tokens[1]}`,
  ];
  configFile = path.join(p.root, "kubecontrol.yaml");
}, 180_000);

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await p?.cleanup();
}, 180_000);

const run = async (what: string, args: string[]) => {
  const r = await p.kubecontrol(["--config", configFile, ...args]);
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  return { ...r, ms: r.finishedAt - r.startedAt };
};

describe("notifications", () => {
  it("tell the webhooks how a failed run ended, within the time allowed, without changing its exit code", async () => {
    // given no webhooks: the run as it is
    writeFileSync(configFile, "notifyOn: [failure]\n");
    const plain = await run("without webhooks", ["create", p.app, "--yes"]);
    expect(plain.status, plain.stderr).toBe(5);

    // given two webhooks, one flaky and one that never answers, 3s in all
    writeConfig({ notifyOn: "failure", notifyTimeout: "3s" });
    const failed = await run("failed create", ["create", p.app, "--yes"]);
    const json = await run("failed create --json", ["--json", "create", p.app, "--yes"]);

    // then the exit codes are the run's own
    expect(failed.status, failed.stderr).toBe(5);
    expect(json.status, json.stdout).toBe(5);
    expect(failed.stderr).toContain(`secret ${p.app}/absent does not exist`);
    // and each run took at most the notification's bound longer (3s, plus a little)
    console.log(
      `create failing preflight: ${plain.ms} ms without webhooks, ${failed.ms} and ${json.ms} ms with a silent one (notifyTimeout 3s)`,
    );
    for (const r of [failed, json]) expect(r.ms).toBeLessThan(plain.ms + 3_000 + 2_500);
    for (const r of [failed, json]) expect(r.ms).toBeGreaterThanOrEqual(3_000);

    // and the flaky receiver got one notification per run, after a 500 each
    expect(attempts).toBe(4);
    expect(accepted).toHaveLength(2);
    expect(silentCalls).toBeGreaterThanOrEqual(2);
    const history = await run("history", ["--json", "history", p.app]);
    const runs = JSON.parse(history.stdout) as { runs?: { id: string }[] } | { id: string }[];
    const ids = (Array.isArray(runs) ? runs : (runs.runs ?? [])).map((r) => r.id);
    const commit = p.git("rev-parse", "HEAD");
    for (const body of accepted) {
      const [headline, about, error, ...rest] = body.text.split("\n");
      expect(headline).toMatch(new RegExp(`^❌ create ${p.app} failed \\(exit 5\\) in \\d`));
      expect(about).toMatch(new RegExp(`^version ${commit.slice(0, 12)}, run (run-\\S+), by \\S+@\\S+$`));
      expect(ids).toContain(/run (run-\S+),/.exec(about!)![1]);
      // the error (preflight's, a line per problem) and its hint
      expect(error).toMatch(/^PREFLIGHT_FAILED: /);
      expect(rest.join("\n")).toContain(`secret ${p.app}/absent does not exist`);
      expect(rest.at(-1)).toMatch(/^hint: ./);
      const blocks = JSON.stringify(body.blocks);
      expect(blocks).toContain(`*App*\\n${p.app}`);
      expect(blocks).toContain("*Command*\\ncreate");
    }
    // and what became of each webhook is said, by host, never by URL
    expect(failed.stderr).toMatch(/info: notified webhook 1 \(127\.0\.0\.1:\d+\)/);
    expect(failed.stderr).toMatch(
      /warn: could not notify webhook 2 \(127\.0\.0\.1:\d+\): no answer within 3s \(1 attempt\); the run's result stands/,
    );
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; level?: string; message?: string });
    expect(
      events.filter((e) => e.type === "log" && e.message?.includes("notif")).map((e) => e.level),
    ).toEqual(["info", "warn"]);
    expect(events.at(-1)?.type).toBe("error");
  }, 180_000);

  it("tell of a success only when asked, and of nothing but failures otherwise", async () => {
    const before = accepted.length;
    // teardown of a colour that was never made: nothing to do, a success
    writeConfig({ notifyOn: "failure", notifyTimeout: "3s" });
    const quiet = await run("teardown, failures only", ["teardown", p.app, "--colour", "green", "--yes"]);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(accepted).toHaveLength(before);

    writeConfig({ notifyOn: "[failure, success]", notifyTimeout: "3s" });
    const told = await run("teardown, successes too", ["teardown", p.app, "--colour", "green", "--yes"]);
    expect(told.status, told.stderr).toBe(0);
    expect(accepted).toHaveLength(before + 1);
    expect(accepted.at(-1)!.text).toMatch(new RegExp(`^✅ teardown ${p.app} no-op in `));
  }, 180_000);

  it("show the webhooks by host only, and refuse a bad one without echoing it", async () => {
    writeConfig({ notifyOn: "failure" });
    const shown = await run("config", ["config"]);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /notifyWebhooks\s+http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\], http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\]/,
    );

    writeFileSync(configFile, `notifyWebhooks:\n  - ftp://hooks.example.com/services/T0/B0/${tokens[0]}\n`);
    const bad = await run("bad config", ["config"]);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain(
      `${configFile}: notifyWebhooks[0]: expected an http:// or https:// webhook URL`,
    );
    expect(bad.stderr).toContain("the value is not shown");
  }, 60_000);

  it("leave the URLs' tokens nowhere: output, history, state files", async () => {
    expect(outputs.length).toBeGreaterThan(8);
    // (the search finds a token where there is one: the configuration file holds it)
    expect(readFileSync(configFile, "utf8")).toContain(tokens[0]);
    const forms = tokens.flatMap((t) => [t, Buffer.from(t).toString("base64").slice(0, 24)]);
    const found = outputs.filter((o) => forms.some((f) => o.text.includes(f))).map((o) => o.what);
    const stateDir = path.join(p.root, ".state");
    for (const f of readdirSync(stateDir, { recursive: true })) {
      const file = path.join(stateDir, String(f));
      if (statSync(file).isFile() && forms.some((t) => readFileSync(file).includes(t))) found.push(file);
    }
    expect(found).toEqual([]);
  });
});
