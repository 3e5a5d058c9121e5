import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToDispatcher, probe } from "../../src/http/connect-to.js";

// Requests for the app's name connect to the load balancer's address, with the name kept for
// TLS and Host, against real local servers; each failure is named for what it is.

const servers: Server[] = [];
let dir: string;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "kc-http-"));
});

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;

describe("probe through a connect-to dispatcher", () => {
  it("connects to the address while Host stays the app's name, and reports status and body start", async () => {
    // given a server on 127.0.0.1 that echoes the Host it was asked for, failing with 503
    const port = await listen(
      createServer((req, res) => {
        res.writeHead(503, { "content-type": "text/plain" });
        res.end(`no healthy target for ${req.headers.host}\n${"x".repeat(2000)}`);
      }),
    );
    const dispatcher = await connectToDispatcher({ host: "shop.example.test", address: "127.0.0.1" });

    // when a URL under the app's name is probed
    const seen = await probe(`http://shop.example.test:${port}/healthz`, {
      dispatcher,
      timeoutMs: 5000,
      signal,
    });

    // then the answer came from that server, for that name, with the start of its body
    expect(seen).toMatchObject({ answered: true, status: 503 });
    if (!seen.answered) throw new Error("unreachable");
    expect(seen.bodyStart).toMatch(new RegExp(`^no healthy target for shop.example.test:${port} x+…$`));
    expect(seen.bodyStart.length).toBeLessThanOrEqual(161);
    await dispatcher.close();
  });

  it("names a refused connection, which waiting may mend", async () => {
    const closed = await listen(createServer());
    servers.pop()!.close();
    await new Promise((r) => setTimeout(r, 50));
    const dispatcher = await connectToDispatcher({ host: "shop.example.test", address: "127.0.0.1" });
    const seen = await probe(`http://shop.example.test:${closed}/`, { dispatcher, timeoutMs: 5000, signal });
    expect(seen).toEqual({
      answered: false,
      failure: { cause: `connection refused by 127.0.0.1:${closed}`, permanent: false },
    });
  });

  it("names a server that never answers as a timeout", async () => {
    const port = await listen(createServer(() => {}));
    const dispatcher = await connectToDispatcher({ host: "shop.example.test", address: "127.0.0.1" });
    const seen = await probe(`http://shop.example.test:${port}/`, { dispatcher, timeoutMs: 300, signal });
    expect(seen).toEqual({ answered: false, failure: { cause: "no answer within 300ms", permanent: false } });
  });

  it("refuses a certificate whose issuer nobody trusts, at once: waiting cannot mend it", async () => {
    // given an HTTPS server with a self-signed certificate for the app's very name
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=shop.example.test",
        "-addext",
        "subjectAltName=DNS:shop.example.test",
        "-days",
        "1",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const port = await listen(
      createHttpsServer(
        { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) },
        (_req, res) => res.end("ok"),
      ),
    );
    const dispatcher = await connectToDispatcher({ host: "shop.example.test", address: "127.0.0.1" });
    const seen = await probe(`https://shop.example.test:${port}/`, { dispatcher, timeoutMs: 5000, signal });
    expect(seen).toEqual({
      answered: false,
      failure: {
        cause: expect.stringMatching(
          /^TLS: the certificate's issuer is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
        ),
        permanent: true,
      },
    });
  });
});
