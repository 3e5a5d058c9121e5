import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Caller,
  type ClusterAccess,
  grantFor,
  type KubeUser,
  type NamespaceBinding,
} from "./access-grants.js";
import { callerArn, decodeEksToken, principalArnOf, stsTarget } from "./eks-token.js";

/** What the webhook needs from the rest of the sandbox. */
export interface TokenWebhookDeps {
  /** moto's own URL: every presigned STS call goes there, so it is not counted as the engine's traffic. */
  awsEndpoint: string;
  clusterAccess(cluster: string): Promise<ClusterAccess>;
  /** Private DNS name of an EC2 instance, for node identities (EC2_LINUX entries). */
  privateDnsName?(instanceId: string): Promise<string | undefined>;
  log(event: string, fields: Record<string, unknown>): void;
  /** Makes the RoleBindings of namespace-scoped access policies exist in the cluster. */
  ensureBindings?(cluster: string, bindings: NamespaceBinding[]): Promise<void>;
  /** Answers GET /healthz: problems of the process serving the webhook (none: healthy). */
  problems?(): string[];
}

type Verdict = { user: KubeUser } | { denied: string };

/** Authenticates one EKS token for one cluster: STS names the caller, access entries grant. */
export async function reviewToken(deps: TokenWebhookDeps, cluster: string, token: string): Promise<Verdict> {
  const decoded = decodeEksToken(token);
  if (!decoded.ok) return { denied: decoded.reason };
  const target = stsTarget(decoded.url, deps.awsEndpoint);
  if (!target) return { denied: `token is signed for ${decoded.url.host}, which is not STS` };
  const arn = await callerArn(target, cluster);
  const { principalArn, sessionName } = principalArnOf(arn);
  const accountId = arn.split(":")[4] ?? "";
  const caller: Caller = { arn, principalArn, accountId, ...(sessionName ? { sessionName } : {}) };
  if (sessionName?.startsWith("i-") && deps.privateDnsName) {
    const dns = await deps.privateDnsName(sessionName);
    if (dns) caller.ec2PrivateDnsName = dns;
  }
  const granted = grantFor(caller, await deps.clusterAccess(cluster));
  if (!granted) return { denied: `no access entry for ${principalArn} in cluster ${cluster}` };
  const { bindings, ...user } = granted;
  if (bindings && deps.ensureBindings) await deps.ensureBindings(cluster, bindings);
  return { user };
}

/**
 * The token webhook kube-apiserver calls (authentication.k8s.io/v1 TokenReview) at
 * POST /<cluster>. A denial is an unauthenticated review (the API answers 401); a failure to
 * reach STS or the access entries is a 500, which kube-apiserver also turns into 401 and retries.
 */
export async function startTokenWebhook(
  deps: TokenWebhookDeps,
  port = 0,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.log("token-webhook.error", { error: String(err) });
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${bound}` };
}

async function handle(deps: TokenWebhookDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const cluster = decodeURIComponent((req.url ?? "/").slice(1).split("?")[0] ?? "");
  if (req.method === "GET" && cluster === "healthz") {
    const problems = deps.problems?.() ?? [];
    res.writeHead(problems.length > 0 ? 503 : 200, { "content-type": "text/plain" });
    res.end(problems.length > 0 ? problems.join("; ") : "ok");
    return;
  }
  if (req.method !== "POST" || !cluster) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    apiVersion?: string;
    spec?: { token?: string };
  };
  const verdict = await reviewToken(deps, cluster, review.spec?.token ?? "");
  const status =
    "user" in verdict
      ? { authenticated: true, user: verdict.user }
      : { authenticated: false, error: verdict.denied };
  deps.log("token-webhook.review", {
    cluster,
    authenticated: status.authenticated,
    ...("user" in verdict ? { username: verdict.user.username } : { reason: verdict.denied }),
  });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      apiVersion: review.apiVersion ?? "authentication.k8s.io/v1",
      kind: "TokenReview",
      status,
    }),
  );
}
