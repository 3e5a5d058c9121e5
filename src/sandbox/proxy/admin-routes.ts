import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallCounts } from "./call-counts.js";
import { type FaultRule, FaultRulesSchema } from "./faults.js";
import { readBody, sendJson } from "./http-util.js";

const MAX_ADMIN_BODY = 1 << 20;

/** What the admin API reads and changes. */
export interface ProxyAdminState {
  counts: CallCounts;
  rules: FaultRule[];
}

/** Serves /_proxy/...: health, call counts (all or per access key id) and fault rules. */
export async function serveProxyAdmin(
  state: ProxyAdminState,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
): Promise<void> {
  const [path, query = ""] = url.split("?", 2);
  const method = req.method ?? "GET";
  const accessKeyId = new URLSearchParams(query).get("accessKeyId") ?? undefined;
  if (path === "/_proxy/health" && method === "GET") return sendJson(res, 200, { ok: true });
  if (path === "/_proxy/calls" && method === "GET")
    return sendJson(res, 200, state.counts.snapshot(accessKeyId));
  if (path === "/_proxy/calls/reset" && method === "POST") {
    state.counts.reset(accessKeyId);
    return sendJson(res, 200, { ok: true });
  }
  if (path === "/_proxy/faults" && method === "GET") return sendJson(res, 200, { rules: state.rules });
  if (path === "/_proxy/faults" && method === "DELETE") {
    state.rules = [];
    return sendJson(res, 200, { rules: [] });
  }
  if (path === "/_proxy/faults" && method === "POST") {
    const raw = await readBody(req);
    if (raw.length > MAX_ADMIN_BODY) return sendJson(res, 413, { error: "body too large" });
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8") || "{}");
    } catch {
      return sendJson(res, 400, { error: "body must be JSON: {rules: [...]}" });
    }
    const result = FaultRulesSchema.safeParse(parsed);
    if (!result.success)
      return sendJson(res, 400, { error: "invalid fault rules", issues: result.error.issues });
    state.rules = result.data.rules;
    return sendJson(res, 200, { rules: state.rules });
  }
  return sendJson(res, 404, { error: `no proxy admin endpoint ${method} ${path}` });
}
