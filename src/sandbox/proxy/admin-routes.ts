import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallCounts } from "./call-counts.js";
import type { CallLog } from "./call-log.js";
import { type FaultRule, FaultRulesSchema } from "./faults.js";
import { readBody, sendJson } from "./http-util.js";

const MAX_ADMIN_BODY = 1 << 20;

/** What the admin API reads and changes. */
export interface ProxyAdminState {
  counts: CallCounts;
  log: CallLog;
  rules: FaultRule[];
}

/**
 * Serves /_proxy/...: health, call counts (all or per access key id), the call log of a key
 * with fault rules of its own, and fault rules.
 */
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
  if (path === "/_proxy/log" && method === "GET") {
    if (!accessKeyId) return sendJson(res, 400, { error: "/_proxy/log needs ?accessKeyId=" });
    return sendJson(res, 200, { calls: state.log.calls(accessKeyId) });
  }
  if (path === "/_proxy/calls/reset" && method === "POST") {
    state.counts.reset(accessKeyId);
    state.log.reset(accessKeyId);
    return sendJson(res, 200, { ok: true });
  }
  if (path === "/_proxy/faults" && method === "GET") return sendJson(res, 200, { rules: state.rules });
  if (path === "/_proxy/faults" && method === "DELETE") {
    state.rules = [];
    return sendJson(res, 200, { rules: [] });
  }
  if (method === "POST" && (path === "/_proxy/faults" || path === "/_proxy/faults/append")) {
    const rules = await readRules(req, res);
    if (!rules) return;
    // append adds to the rules in force in one step, so tests running at once cannot lose each other's
    state.rules = path === "/_proxy/faults" ? rules : [...state.rules, ...rules];
    return sendJson(res, 200, { rules: state.rules });
  }
  if (path === "/_proxy/faults/remove" && method === "POST") {
    const raw = await readBody(req);
    const body = (safeJson(raw.toString("utf8")) ?? {}) as { accessKeyId?: unknown; operation?: unknown };
    if (typeof body.accessKeyId !== "string" && typeof body.operation !== "string") {
      return sendJson(res, 400, { error: "body must be {accessKeyId} and/or {operation}" });
    }
    state.rules = state.rules.filter(
      (r) =>
        !(
          (body.accessKeyId === undefined || r.accessKeyId === body.accessKeyId) &&
          (body.operation === undefined || r.operation === body.operation)
        ),
    );
    return sendJson(res, 200, { rules: state.rules });
  }
  return sendJson(res, 404, { error: `no proxy admin endpoint ${method} ${path}` });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return undefined;
  }
}

/** Parses and validates `{rules: [...]}`; answers 400/413 itself and returns undefined when it is not. */
async function readRules(req: IncomingMessage, res: ServerResponse): Promise<FaultRule[] | undefined> {
  const raw = await readBody(req);
  if (raw.length > MAX_ADMIN_BODY) {
    sendJson(res, 413, { error: "body too large" });
    return undefined;
  }
  const parsed = safeJson(raw.toString("utf8"));
  if (parsed === undefined) {
    sendJson(res, 400, { error: "body must be JSON: {rules: [...]}" });
    return undefined;
  }
  const result = FaultRulesSchema.safeParse(parsed);
  if (!result.success) {
    sendJson(res, 400, { error: "invalid fault rules", issues: result.error.issues });
    return undefined;
  }
  return result.data.rules;
}
