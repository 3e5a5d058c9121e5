import type { IncomingMessage, ServerResponse } from "node:http";
import type { SyntheticResponse } from "./protocol-errors.js";

/** The whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Writes a made-up response. */
export function send(res: ServerResponse, answer: SyntheticResponse): void {
  res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
