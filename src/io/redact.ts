/**
 * Scrubs secrets from free text before it reaches a log, history or an error message: EKS bearer
 * tokens, presigned-URL signatures, AWS secret keys and session tokens, passwords in URLs,
 * Authorization headers. Structured logs are redacted by key as well (src/io/logger.ts).
 */
const PATTERNS: [RegExp, string][] = [
  [/k8s-aws-v1\.[A-Za-z0-9_-]+/g, "k8s-aws-v1.[REDACTED]"],
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"']+/gi, "$1[REDACTED]"],
  [
    /((?:aws_secret_access_key|aws_session_token|secretaccesskey|sessiontoken)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}/gi,
    "$1[REDACTED]",
  ],
  [/(Authorization:\s*(?:Basic|Bearer)\s+)\S+/gi, "$1[REDACTED]"],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, "$1[REDACTED]@"],
  [/([?&](?:password|passwd|pwd)=)[^&\s"'#]+/gi, "$1[REDACTED]"],
  [/("?(?:password|passwd|secret|token|authorizationToken)"?\s*[:=]\s*")[^"]+"/gi, '$1[REDACTED]"'],
];

/** The text with every secret pattern replaced by [REDACTED]. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
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
