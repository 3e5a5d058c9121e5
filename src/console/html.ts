import { redact } from "../io/redact.js";

/**
 * HTML built from templates whose every interpolated value is escaped, unless it is Html itself:
 * commit subjects, errors and step output are untrusted text, so nothing reaches a page unescaped.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** AWS access key ids (AKIA… long-term, ASIA… temporary): redact() leaves bare ones, the console does not show them. */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b/g;

/** Text as the console may show it: secrets redacted (src/io/redact.ts), and access key ids too. */
export function scrub(text: string): string {
  return redact(text).replace(ACCESS_KEY_ID, "[REDACTED]");
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text escaped for an element's content or a quoted attribute. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (v === undefined || v === null || v === false) return "";
  if (Array.isArray(v)) return v.map(piece).join("");
  return esc(scrub(String(v)));
}

/** `html\`<td>${text}</td>\``: values are scrubbed and escaped; Html values and arrays of them pass as they are. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** A query string from parameters, empty ones left out ("" or "?a=b&c=d"). */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** "2026-05-01 12:00:03Z" */
export function when(at: number | null | undefined): string {
  if (at === null || at === undefined) return "-";
  return new Date(at)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** "3m 12s", "1h 4m", "850ms" */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** "5m 3s ago" */
export function ago(at: number, now = Date.now()): string {
  return `${duration(Math.max(0, now - at))} ago`;
}

/** The short form of a version (a commit): its first 12 characters. */
export function short(version: string | null | undefined): string {
  return version ? version.slice(0, 12) : "-";
}

/** A value with every string in it scrubbed (for JSON answers). */
export function scrubValue<T>(value: T): T {
  if (typeof value === "string") return scrub(value) as T;
  if (Array.isArray(value)) return value.map(scrubValue) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v);
    return out as T;
  }
  return value;
}
