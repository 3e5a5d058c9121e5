import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import type { CliRun } from "../helpers/e2e-runs.js";
import { type GitHttpServer, startGitHttp } from "../helpers/git-http.js";
import { type PostgresServer, skipPostgres, startPostgres } from "../helpers/postgres.js";

// Canaries: secret values planted wherever kubecontrol reads secrets (the AWS secret key and
// session token, the ECR registry token, a Secrets Manager value read through envFromSecrets, a
// git token in the source's URL in both forms, the PostgreSQL store's password). After create,
// update, rollout, failing runs, plan, config and history, none of them is found, raw, base64-
// or URL-encoded, in anything kubecontrol wrote: stdout, stderr, NDJSON, the log file a cron line
// keeps, or a dump of the store. The files that hold secrets or history are nobody else's.

const CANARY = {
  awsSecretKey: "CanaryAwsSecretKey0Zq9XcVbN7mLkJhGfDsA1",
  awsSessionToken: "CanarySessionTokenFwoGZXIvYXdzEJr0xG9mN3pQ7wL2kT5vB8cY4zH6",
  secretValue: "canary-db-password-7Yh2Kp9Wq4",
  gitToken: "canary_gitpat_3Fk8Ls0Vm2Qx7Rz",
  gitUserToken: "canary_ghp_9Tn4Bw6Cy1Dj5Eu8",
};

let p: E2eProject;
let pg: PostgresServer | undefined;
let git: GitHttpServer;
let store: string | undefined;
let remote: string;
let logFile: string;
let secretName: string;
const outputs: { what: string; text: string }[] = [];
let ecrToken = "";

function collect(what: string, r: CliRun): CliRun {
  outputs.push({ what, text: `${r.stdout}\n${r.stderr}` });
  return r;
}

/** A source URL with the token in it, in one of git hosts' two forms. */
const sourceUrl = (form: "user:token" | "token") =>
  git.url(remote, form === "user:token" ? `deployer:${CANARY.gitToken}` : CANARY.gitUserToken);

beforeAll(async () => {
  if (!skipPostgres) {
    pg = await startPostgres();
    store = await pg.createDatabase();
  }
  const base = mkdtempSync(path.join(tmpdir(), "kc-canary-"));
  remote = path.join(base, "source.git");
  git = await startGitHttp(
    base,
    (c) => c === `deployer:${CANARY.gitToken}` || c === `${CANARY.gitUserToken}:`,
  );
  secretName = `canary-${Date.now()}`;
  p = await e2eProject("canary", (spec, app) =>
    spec
      .replace('context: "apps/hello"', `context: "apps/hello", source: { git: "GIT_URL_${app}" }`)
      .replace(
        'ports: [{ name: "http", containerPort: 8080 }],',
        `ports: [{ name: "http", containerPort: 8080 }],\n          envFromSecrets: { CANARY: "${secretName}#value" },`,
      ),
  );
  execFileSync("git", ["clone", "--quiet", "--bare", p.root, remote]);
  p.writeSpec((s) => s.replace(`GIT_URL_${p.app}`, sourceUrl("user:token")));
  // the Secrets Manager value the pods read
  await awsCli(p.sbx, [
    "secretsmanager",
    "create-secret",
    "--name",
    secretName,
    "--secret-string",
    JSON.stringify({ value: CANARY.secretValue }),
  ]);
  // the registry token ECR hands out (opaque and random in the sandbox, as on AWS)
  const auth = (await awsCli(p.sbx, ["ecr", "get-authorization-token"])) as {
    authorizationData: { authorizationToken: string }[];
  };
  ecrToken = auth.authorizationData[0]!.authorizationToken;
  logFile = path.join(p.root, ".state", "logs", `${p.app}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
}, 180_000);

afterAll(async () => {
  await p?.cleanup();
  await git?.close();
  rmSync(cacheHome, { recursive: true, force: true });
  await pg?.stop();
  if (secretName)
    await awsCli(p.sbx, [
      "secretsmanager",
      "delete-secret",
      "--secret-id",
      secretName,
      "--force-delete-without-recovery",
    ]).catch(() => {});
}, 240_000);

// this test's own cache, so the mirrors read below are the ones its runs made
const cacheHome = mkdtempSync(path.join(tmpdir(), "kc-canaries-cache-"));

const env = () => ({
  XDG_CACHE_HOME: cacheHome,
  AWS_SECRET_ACCESS_KEY: CANARY.awsSecretKey,
  AWS_SESSION_TOKEN: CANARY.awsSessionToken,
  ...(store ? { KUBECONTROL_HISTORY_STORE: store } : {}),
});

const run = async (what: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
  collect(what, await p.kubecontrol(args, { env: { ...env(), ...extra } }));

/** Every form a secret could leak in. */
function forms(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    Buffer.from(secret).toString("base64").replace(/=+$/, ""),
    Buffer.from(secret).toString("base64url"),
  ];
}

describe("canaries", () => {
  it("are nowhere in what kubecontrol printed, logged or stored", async () => {
    // a create (NDJSON, appended to a log as a cron line does), with the token as user:password
    const created = await run("create --json", ["--json", "create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    appendFileSync(logFile, created.stdout, { mode: 0o660 });
    expect(git.seen).toContain(`deployer:${CANARY.gitToken}`);

    expect((await run("config", ["config"])).status).toBe(0);
    expect((await run("config json", ["config", "-o", "json"])).status).toBe(0);
    expect((await run("plan", ["plan", p.app, "-o", "json"])).status).toBe(0);

    // an update to a new commit (built and pushed with the registry token), the token now the URL's user
    p.commitChange("v2");
    execFileSync("git", ["-C", p.root, "push", "--quiet", remote, "HEAD:main", "HEAD:master"], {
      stdio: "ignore",
    });
    p.writeSpec((s) => s.replace(sourceUrl("user:token"), sourceUrl("token")));
    const updated = await run("update --json", ["--json", "update", p.app, "--yes"]);
    expect(updated.status, updated.stderr).toBe(0);
    expect(git.seen).toContain(`${CANARY.gitUserToken}:`);

    // a rollout to another commit
    const v3 = p.commitChange("v3");
    execFileSync("git", ["-C", p.root, "push", "--quiet", remote, "HEAD:main", "HEAD:master"], {
      stdio: "ignore",
    });
    const rolled = await run("rollout", ["rollout", p.app, "--version", v3, "--yes"]);
    expect(rolled.status, rolled.stderr).toBe(0);

    // failing runs: a verification that cannot pass, a source that refuses the token, a store
    // that refuses the password
    p.writeSpec((s) =>
      s.replace(
        "  dns: {",
        '  deploy: { verify: { http: [{ service: "web", path: "/", expectStatus: 418, timeout: "1s" }], timeout: "3s" } },\n  dns: {',
      ),
    );
    const v4 = p.commitChange("v4");
    execFileSync("git", ["-C", p.root, "push", "--quiet", remote, "HEAD:main", "HEAD:master"], {
      stdio: "ignore",
    });
    const failed = await run("update failing", ["update", p.app, "--version", v4, "--yes"]);
    expect(failed.status, failed.stderr).toBe(7);
    p.writeSpec((s) => s.replace(sourceUrl("token"), git.url(remote, `deployer:${CANARY.gitToken}-wrong`)));
    const refused = await run("create refused source", ["create", p.app, "--yes"]);
    expect(refused.status, refused.stderr).not.toBe(0);
    p.writeSpec((s) => s.replace(git.url(remote, `deployer:${CANARY.gitToken}-wrong`), sourceUrl("token")));
    if (store && pg) {
      const wrong = store.replace(
        encodeURIComponent(pg.password),
        encodeURIComponent(`${pg.password}-wrong`),
      );
      const badStore = await run("history, wrong store password", ["history", p.app], {
        KUBECONTROL_HISTORY_STORE: wrong,
      });
      expect(badStore.status, badStore.stderr).toBe(3);
    }

    // history, for people and as JSON
    expect((await run("history", ["history", p.app])).status).toBe(0);
    expect((await run("history json", ["history", p.app, "-o", "json"])).status).toBe(0);

    // a dump of the store: every run, step and lease line
    if (pg && store) {
      const dump = await Promise.all(
        ["runs", "steps", "lease_log", "leases"].map(async (t) =>
          JSON.stringify(await pg!.admin(`SELECT * FROM ${t}`, new URL(store!).pathname.slice(1))),
        ),
      );
      outputs.push({ what: "store dump", text: dump.join("\n") });
    }
    outputs.push({ what: "cron log", text: readFileSync(logFile, "utf8") });
    // and what this user's git mirror of the source keeps
    const mirrors = path.join(cacheHome, "kubecontrol/sources");
    expect(readdirSync(mirrors).filter((f) => f.endsWith(".git"))).toHaveLength(1);
    for (const f of readdirSync(mirrors, { recursive: true, withFileTypes: true }))
      if (f.isFile() && ["config", "HEAD", "packed-refs", "FETCH_HEAD"].includes(f.name))
        outputs.push({
          what: `mirror ${f.name}`,
          text: readFileSync(path.join(f.parentPath, f.name), "latin1"),
        });

    // then no canary, in any form, is in any of it
    const ecrPassword = Buffer.from(ecrToken, "base64").toString("utf8").replace(/^AWS:/, "");
    const canaries: [string, string][] = [
      ...Object.entries(CANARY),
      ["ecrToken", ecrToken],
      ["ecrPassword", ecrPassword],
      ...(pg ? ([["postgresPassword", pg.password]] as [string, string][]) : []),
    ];
    const found: string[] = [];
    for (const { what, text } of outputs)
      for (const [name, secret] of canaries)
        for (const form of forms(secret)) if (text.includes(form)) found.push(`${name} in ${what}`);
    expect(found).toEqual([]);
    // nor an EKS bearer token or a presigned signature
    const all = outputs.map((o) => o.text).join("\n");
    expect(all).not.toMatch(/k8s-aws-v1\.(?!\[REDACTED\])[A-Za-z0-9_-]{8}/);
    expect(all).not.toMatch(/X-Amz-Signature=(?!\[REDACTED\])[0-9a-f]{8}/i);

    // and the log file and the sandbox's keys are nobody else's
    expect(statSync(logFile).mode & 0o007).toBe(0);
    const keys = [
      path.join(p.sbx.dir, "ca", "ca.key"),
      ...readdirSync(path.join(p.sbx.dir, "ca", "certs"))
        .filter((f) => f.endsWith(".key"))
        .map((f) => path.join(p.sbx.dir, "ca", "certs", f)),
    ];
    for (const key of keys)
      expect({ key, mode: (statSync(key).mode & 0o777).toString(8) }).toEqual({ key, mode: "600" });
    expect((statSync(p.sbx.dir).mode & 0o777).toString(8)).toBe("700");
  }, 600_000);
});
