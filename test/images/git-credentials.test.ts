import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveVersion, splitRemote } from "../../src/images/version.js";
import { baseSpec, resolved } from "../helpers/apps.js";

// A git remote's credentials (https://user:token@host/…, or a token given as the user) reach
// git through a credential helper reading them from its environment: never its argv (which
// every user of the host sees in ps), never a config file, never an error message. Checked
// against a real git talking to an HTTP server that asks for Basic authentication.

let server: Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (!auth) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="repo"' });
      res.end();
      return;
    }
    seen.push(Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("utf8"));
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => server.close());

/** Every file under `dir`, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "latin1"))
    .join("\n");
}

describe("git remote credentials", () => {
  it.each([
    ["user:token", "deploy", "tok3n-s3cret-one", "deploy:tok3n-s3cret-one"],
    ["token as the user", "tok3n-s3cret-two", "", "tok3n-s3cret-two:"],
  ])("(%s) reach the server through the helper, and nowhere else", async (_form, user, pass, expected) => {
    const remote = `http://${user}${pass ? `:${pass}` : ""}@127.0.0.1:${port}/org/repo.git`;
    const secret = pass || user;
    const app = resolved(baseSpec({ image: { repository: "demo", source: { git: remote } } }));
    const mirrorDir = mkdtempSync(path.join(tmpdir(), "kc-mirrors-"));

    // when the app's version is resolved (the mirror is cloned from the remote)
    const failure = await resolveVersion(app, "/", undefined, { mirrorDir }).catch((err: Error) => err);

    // then the server saw the credentials
    expect(seen).toContain(expected);
    // and the failure (the server has no repository) says where, without them
    expect(failure).toBeInstanceOf(Error);
    const text = `${(failure as Error).message} ${String((failure as Error).cause)}`;
    expect(text).toContain(`http://127.0.0.1:${port}/org/repo.git`);
    expect(text).not.toContain(secret);
    // and no file of the mirror directory holds them
    expect(allText(mirrorDir)).not.toContain(secret);
  });

  it("the URL git is given has no credentials in it", () => {
    expect(splitRemote("https://x-access-token:ghs_abc123@github.com/org/repo.git")).toEqual({
      url: "https://github.com/org/repo.git",
      username: "x-access-token",
      password: "ghs_abc123",
    });
    expect(splitRemote("git@github.com:org/repo.git")).toEqual({ url: "git@github.com:org/repo.git" });
    expect(execFileSync("git", ["--version"], { encoding: "utf8" })).toMatch(/^git version/);
  });
});
