import { createHash } from "node:crypto";
import { z } from "zod";

/** What a fault does to a matching call. */
export const FAULT_KINDS = ["latency", "throttle", "5xx", "timeout", "garbage", "lost-response"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault rule, as `POST /_proxy/faults` and `kubecontrol sandbox faults` take it. */
export const FaultRuleSchema = z.object({
  /** `service:Operation` glob (`eks:CreateCluster`, `ec2:Describe*`, `*:*`); without a colon, any service. */
  operation: z.string().min(1),
  kind: z.enum(FAULT_KINDS),
  /** Share of matching calls that get the fault, 0..1. */
  rate: z.number().min(0).max(1).default(1),
  /** Same seed, same calls: same faults, whatever the concurrency. */
  seed: z.union([z.string(), z.number()]).default(0),
  /** latency: added delay; timeout: how long the call hangs before the connection is dropped. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** Only attempts up to this number (1 = first tries only, so retries succeed). */
  maxAttempt: z.number().int().min(1).optional(),
  /** Only calls signed with this access key id (lets concurrent tests keep their storms apart). */
  accessKeyId: z.string().min(1).optional(),
});
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** The body of `POST /_proxy/faults`. */
export const FaultRulesSchema = z.object({ rules: z.array(FaultRuleSchema) });

/** A call's coordinates for the fault decision. */
export interface FaultSubject {
  service: string;
  accessKeyId?: string;
  operation: string;
  /** Stable description of what the call acts on (path and body without idempotency tokens). */
  resource: string;
  attempt: number;
}

function globToRegex(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "i");
}

/** True when a rule's operation pattern names this service and operation. */
export function ruleMatches(rule: FaultRule, service: string, operation: string): boolean {
  const pattern = rule.operation.includes(":") ? rule.operation : `*:${rule.operation}`;
  return globToRegex(pattern).test(`${service}:${operation}`);
}

/** A number in [0, 1) from the hash of (seed, operation, resource, attempt): no shared random state. */
export function draw(seed: string | number, subject: FaultSubject): number {
  const digest = createHash("sha256")
    .update(
      `${seed}\u0000${subject.service}:${subject.operation}\u0000${subject.resource}\u0000${subject.attempt}`,
    )
    .digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The first rule that fires for this call, if any. */
export function decideFault(rules: readonly FaultRule[], subject: FaultSubject): FaultRule | undefined {
  for (const rule of rules) {
    if (!ruleMatches(rule, subject.service, subject.operation)) continue;
    if (rule.maxAttempt !== undefined && subject.attempt > rule.maxAttempt) continue;
    if (rule.accessKeyId !== undefined && rule.accessKeyId !== subject.accessKeyId) continue;
    if (draw(rule.seed, subject) < rule.rate) return rule;
  }
  return undefined;
}

// Idempotency tokens are fresh per logical call (the SDK makes them up): leaving them in would
// make a replayed storm hit different calls.
const VOLATILE_KEYS = new Set([
  "clientrequesttoken",
  "clienttoken",
  "idempotencytoken",
  "x-amz-date",
  "version",
]);

function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !VOLATILE_KEYS.has(k.toLowerCase()))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonicalJson(v)]),
    );
  }
  return value;
}

/** What a call acts on, stable across retries and runs: path, query and body minus volatile fields. */
export function resourceKey(url: string, contentType: string, body: Buffer | undefined): string {
  const text = body?.toString("utf8") ?? "";
  let canonical = text;
  if (contentType.includes("json") && text) {
    try {
      canonical = JSON.stringify(canonicalJson(JSON.parse(text)));
    } catch {
      canonical = text;
    }
  } else if (contentType.startsWith("application/x-www-form-urlencoded")) {
    const params = [...new URLSearchParams(text)].filter(([k]) => !VOLATILE_KEYS.has(k.toLowerCase()));
    canonical = params
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
  }
  return `${url}\u0000${canonical}`;
}

/** The attempt number the SDK (v3 and botocore) announces in `amz-sdk-request: attempt=N; max=M`. */
export function attemptOf(header: string | string[] | undefined): number {
  const match = /attempt=(\d+)/.exec(String(header ?? ""));
  return match ? Number(match[1]) : 1;
}
