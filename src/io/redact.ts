/**
 * Scrubs secrets from free text before it reaches output, a log, history or an error message
 * (DESIGN.md, principle 7). Two nets:
 *
 * - **Known values.** Secrets kubecontrol holds (the AWS secret key and session token, a store's
 *   password, a git remote's credentials, values read from Secrets Manager, registry and EKS
 *   tokens) are registered when they are read, and every occurrence is replaced, raw, base64-,
 *   URL- or JSON-encoded.
 * - **Shapes.** What looks like a secret whoever it belongs to: URL userinfo (`user:pass@`, a
 *   token given as the user, passwords holding `/`, `@` or spaces), EKS bearer tokens, presigned
 *   signatures, AWS keys and session tokens by name, `Authorization:` and bare `Bearer` values,
 *   `password=`/`api_key=`/`PGPASSWORD=`, JSON values of secret-named keys (escaped too),
 *   `SecretString`, ECR authorization tokens (base64 of `AWS:`).
 *
 * Structured logs are redacted by key as well (src/io/logger.ts).
 */

const MASK = "[REDACTED]";

const SECRET_KEY =
  "(?:password|passwd|pwd|secret|secret[_-]?key|client[_-]?secret|token|access[_-]?token|auth[_-]?token|api[_-]?key|apikey|authorizationToken|secretAccessKey|sessionToken|SecretString|aws_secret_access_key|aws_session_token|PGPASSWORD)";

const PATTERNS: [RegExp, string][] = [
  [/k8s-aws-v1\.[A-Za-z0-9_-]+/g, `k8s-aws-v1.${MASK}`],
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"']+/gi, `$1${MASK}`],
  // Authorization headers and bare bearer tokens.
  [/(Authorization:\s*(?:Basic|Bearer|AWS4-HMAC-SHA256)\s+)[^\r\n]+/gi, `$1${MASK}`],
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, `$1${MASK}`],
  // key=value and key: value, unquoted (env lines, query strings, flags).
  [new RegExp(`(\\b${SECRET_KEY}\\s*[=:]\\s*)(?!\\s*["'\\\\])[^\\s&"',;}]+`, "gi"), `$1${MASK}`],
  // \"key\":\"value\": JSON escaped inside another JSON string.
  [new RegExp(`(\\\\"${SECRET_KEY}\\\\"\\s*:\\s*\\\\")(?:(?!\\\\").)*(\\\\")`, "gi"), `$1${MASK}$2`],
  // "key": "value" (JSON) and key="value": the whole quoted value, escaped quotes and all.
  [new RegExp(`("?\\b${SECRET_KEY}"?\\s*[=:]\\s*")(?:[^"\\\\]|\\\\.)*(")`, "gi"), `$1${MASK}$2`],
  // 'key': 'value' and key='value'.
  [new RegExp(`(\\b${SECRET_KEY}['"]?\\s*[=:]\\s*')[^']*'`, "gi"), `$1${MASK}'`],
  // ECR authorization tokens: base64 of "AWS:<password>".
  [/\bQVdTO[A-Za-z0-9+/]{16,}={0,2}/g, MASK],
  // AWS session tokens (STS): long base64 starting with the known prefixes.
  [/\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9+/=]{20,}/g, MASK],
];

const known = new Set<string>();

/**
 * Registers a secret value this process holds, so every later occurrence of it (raw, base64,
 * URL- or JSON-encoded) is redacted wherever text is scrubbed. Values shorter than 6 characters
 * are too common to replace and are not registered.
 */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 6) return;
  for (const form of encodings(value)) if (form.length >= 6) known.add(form);
}

function encodings(value: string): string[] {
  const b64 = Buffer.from(value, "utf8").toString("base64");
  return [
    value,
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    b64,
    b64.replace(/=+$/, ""),
    Buffer.from(value, "utf8").toString("base64url"),
  ];
}

/** Registers the secrets the environment hands this process (AWS keys, PGPASSWORD). */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD", "KUBECONTROL_GIT_PASSWORD"])
    registerSecret(env[name]);
}

/** The text with every known secret and every secret-shaped value replaced by [REDACTED]. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a value is not half-replaced by a shorter one it contains.
  for (const value of [...known].sort((a, b) => b.length - a.length)) out = out.split(value).join(MASK);
  out = redactUrlUserinfo(out);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Every value of a JSON-able structure redacted (strings scrubbed, values of secret-named keys
 * replaced), for events and error details on their way out.
 */
export function redactValue<T>(value: T): T {
  return scrub(value, 0) as T;
}

const SECRET_KEY_NAME = new RegExp(`^${SECRET_KEY}$`, "i");

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[k] = SECRET_KEY_NAME.test(k) && typeof v === "string" ? MASK : scrub(v, depth + 1);
  return out;
}

/**
 * URL userinfo never travels: `scheme://user:pass@host` and `scheme://token@host` become
 * `scheme://[REDACTED]@host`. A password may hold `/`, `@` or spaces (`postgres://kc:pa/ss@db`,
 * `postgres://kc:p@ss@db`); with a `user:` in front it runs to the last `@` before the host, so
 * a mistyped URL loses more than its password rather than less. Without a colon, the userinfo
 * (a token) holds no `/`, so `https://example.com/@user` is left alone.
 */
export function redactUrlUserinfo(text: string): string {
  const scheme = /\b[a-z][a-z0-9+.-]*:\/\//gi;
  let out = "";
  let last = 0;
  for (let m = scheme.exec(text); m; m = scheme.exec(text)) {
    const start = m.index + m[0].length;
    // This URL's text: up to the next URL, a line end or a quote.
    const next = text.slice(start).search(/[a-z][a-z0-9+.-]*:\/\/|[\r\n"'<>`]/i);
    const region = next < 0 ? text.slice(start) : text.slice(start, start + next);
    const end = userinfoEnd(region);
    if (end === undefined || region.slice(0, end) === MASK) continue;
    out += `${text.slice(last, start)}${MASK}`;
    last = start + end;
    scheme.lastIndex = last;
  }
  return out + text.slice(last);
}

/** Where a URL's userinfo ends (the index of its `@`), or undefined when it has none. */
function userinfoEnd(region: string): number | undefined {
  const user = /^[^\s:/@?#]*/.exec(region)![0];
  if (region[user.length] === "@") return user.length > 0 ? user.length : undefined;
  if (region[user.length] !== ":") return undefined;
  // user:password: the password runs to the last "@" followed by a host.
  let at: number | undefined;
  for (let i = region.indexOf("@", user.length); i >= 0; i = region.indexOf("@", i + 1))
    if (/^[A-Za-z0-9[]/.test(region.slice(i + 1))) at = i;
  return at;
}

/** Keys whose values pino replaces in structured logs. */
export const REDACTED_KEYS = [
  "password",
  "secret",
  "token",
  "authorization",
  "authorizationToken",
  "secretAccessKey",
  "sessionToken",
  "SecretString",
  "*.password",
  "*.secret",
  "*.token",
  "*.authorization",
  "*.authorizationToken",
  "*.secretAccessKey",
  "*.sessionToken",
  "*.SecretString",
  "headers.authorization",
];
