import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/**
 * A git remote over HTTP (git's own `git http-backend`, as CGI) that asks for Basic
 * authentication: what a private repository on a git host looks like to a client. Serves the
 * bare repositories under `root`; every Authorization it was sent is kept in `seen`.
 */
export interface GitHttpServer {
  url(repo: string, credentials?: string): string;
  seen: string[];
  close(): Promise<void>;
}

export async function startGitHttp(
  root: string,
  accept: (credentials: string) => boolean,
): Promise<GitHttpServer> {
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization;
    const credentials = auth ? Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("utf8") : "";
    if (auth) seen.push(credentials);
    if (!auth || !accept(credentials)) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: credentials.split(":")[0],
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const [k, v] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end + 4));
    });
    cgi.on("close", () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (repo, credentials) =>
      `http://${credentials ? `${credentials}@` : ""}127.0.0.1:${port}/${path.basename(repo)}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
