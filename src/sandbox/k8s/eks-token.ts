/**
 * Reads EKS bearer tokens: `k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL
 * whose signature covers the x-k8s-aws-id header (the cluster name), as aws-iam-authenticator does.
 */

const PREFIX = "k8s-aws-v1.";
/** aws-iam-authenticator accepts a token for 15 minutes after it was signed. */
const MAX_AGE_MS = 15 * 60_000;

export type DecodedToken = { ok: true; url: URL } | { ok: false; reason: string };

/** Decodes and checks an EKS token's shape and age; the signature is for STS to judge. */
export function decodeEksToken(token: string, now: Date = new Date()): DecodedToken {
  if (!token.startsWith(PREFIX)) return { ok: false, reason: "not an EKS token (no k8s-aws-v1. prefix)" };
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice(PREFIX.length), "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "token does not hold a URL" };
  }
  const query = new Map([...url.searchParams].map(([k, v]) => [k.toLowerCase(), v]));
  if (query.get("action") !== "GetCallerIdentity")
    return { ok: false, reason: "token is not for GetCallerIdentity" };
  const signed = (query.get("x-amz-signedheaders") ?? "").split(";");
  if (!signed.includes("x-k8s-aws-id")) return { ok: false, reason: "token does not sign x-k8s-aws-id" };
  const date = parseAmzDate(query.get("x-amz-date") ?? "");
  if (!date) return { ok: false, reason: "token has no valid X-Amz-Date" };
  const age = now.getTime() - date.getTime();
  if (age > MAX_AGE_MS) return { ok: false, reason: "token expired" };
  if (age < -MAX_AGE_MS) return { ok: false, reason: "token is dated in the future" };
  return { ok: true, url };
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/**
 * Where to send the presigned call: to moto, whether the token was signed for AWS's STS host (a
 * client without AWS_ENDPOINT_URL) or for the sandbox's endpoint on loopback. Any other host is
 * refused, so that a token cannot make the sandbox call out.
 */
export function stsTarget(url: URL, motoUrl: string): URL | undefined {
  const host = url.hostname;
  const loopback = host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  if (!loopback && !/^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.test(host)) return undefined;
  const target = new URL(motoUrl);
  target.pathname = url.pathname;
  target.search = url.search;
  return target;
}

/** Who STS says the caller is: the ARN of the GetCallerIdentity answer. */
export async function callerArn(target: URL, clusterName: string, timeoutMs = 5000): Promise<string> {
  // moto picks the service from the Authorization header's credential scope, which a presigned
  // URL carries in X-Amz-Credential; STS itself reads it from the query.
  const credential = target.searchParams.get("X-Amz-Credential") ?? "";
  const authorization = `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-k8s-aws-id, Signature=0`;
  const response = await fetch(target, {
    headers: { "x-k8s-aws-id": clusterName, accept: "application/xml", authorization },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`STS answered ${response.status}: ${body.slice(0, 200)}`);
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
  if (!arn) throw new Error(`STS answer names no ARN: ${body.slice(0, 200)}`);
  return arn;
}

/**
 * The IAM principal an access entry names for a caller: an assumed-role session ARN becomes its
 * role's ARN (EKS matches access entries on the role, not the session).
 */
export function principalArnOf(callerArn: string): { principalArn: string; sessionName?: string } {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d+):assumed-role\/([^/]+)\/(.+)$/.exec(callerArn);
  if (assumed) {
    const [, partition, account, role, session] = assumed;
    return { principalArn: `arn:${partition}:iam::${account}:role/${role}`, sessionName: session! };
  }
  return { principalArn: callerArn.replace(/^arn:(aws[a-z-]*):sts::/, "arn:$1:iam::") };
}
