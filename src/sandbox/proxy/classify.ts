import type { IncomingHttpHeaders } from "node:http";
import { EKS_OPERATIONS, type RestOperation, ROUTE53_OPERATIONS } from "./rest-operations.js";

/** The wire protocols of the services kubecontrol calls, as Smithy names them. */
export type Protocol = "restJson1" | "restXml" | "awsJson1_0" | "awsJson1_1" | "awsQuery" | "ec2Query";

/** One AWS call as the proxy sees it. */
export interface CallIdentity {
  /** Signing name from the credential scope: eks, ec2, autoscaling, elasticloadbalancing, … */
  service: string;
  operation: string;
  protocol: Protocol;
}

const PROTOCOLS: Record<string, Protocol> = {
  eks: "restJson1",
  route53: "restXml",
  s3: "restXml",
  ec2: "ec2Query",
  autoscaling: "awsQuery",
  elasticloadbalancing: "awsQuery",
  iam: "awsQuery",
  sts: "awsQuery",
  sns: "awsQuery",
  cloudformation: "awsQuery",
  ecr: "awsJson1_1",
  secretsmanager: "awsJson1_1",
  ssm: "awsJson1_1",
  acm: "awsJson1_1",
  logs: "awsJson1_1",
  kms: "awsJson1_1",
  codebuild: "awsJson1_1",
  dynamodb: "awsJson1_0",
};

interface CompiledRoute {
  method: string;
  regex: RegExp;
  operation: string;
  length: number;
}

function compile(table: readonly RestOperation[]): CompiledRoute[] {
  return table
    .map(([method, uri, operation]) => {
      const source = uri
        .split("/")
        .map((part) => {
          const label = /^\{([^}]+)\}$/.exec(part);
          if (!label) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          return label[1]!.endsWith("+") ? ".+" : "[^/]+";
        })
        .join("/");
      return { method, regex: new RegExp(`^${source}/?$`), operation, length: uri.length };
    })
    .sort((a, b) => b.length - a.length); // the most specific path wins, as in moto's router
}

const REST_ROUTES: Record<string, CompiledRoute[]> = {
  eks: compile(EKS_OPERATIONS),
  route53: compile(ROUTE53_OPERATIONS),
};

/** The signing service named in a SigV4 Authorization header or presigned query (X-Amz-Credential). */
export function signingService(headers: IncomingHttpHeaders, url: string): string | undefined {
  const auth = headers.authorization;
  const fromHeader = typeof auth === "string" ? /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth) : null;
  if (fromHeader) return fromHeader[1];
  const query = url.indexOf("?");
  if (query < 0) return undefined;
  const credential = new URLSearchParams(url.slice(query + 1)).get("X-Amz-Credential");
  return credential?.split("/")[3];
}

/** The access key id a request is signed with (header or presigned query), if any. */
export function accessKeyIdOf(headers: IncomingHttpHeaders, url: string): string | undefined {
  const auth = headers.authorization;
  const fromHeader = typeof auth === "string" ? /Credential=([^/]+)\//.exec(auth) : null;
  if (fromHeader) return fromHeader[1];
  const query = url.indexOf("?");
  if (query < 0) return undefined;
  return new URLSearchParams(url.slice(query + 1)).get("X-Amz-Credential")?.split("/")[0];
}

/** The protocol a service speaks, falling back on what the request looks like. */
export function protocolOf(service: string, headers: IncomingHttpHeaders): Protocol {
  const known = PROTOCOLS[service];
  if (known) return known;
  const contentType = String(headers["content-type"] ?? "");
  if (headers["x-amz-target"]) return contentType.includes("1.0") ? "awsJson1_0" : "awsJson1_1";
  if (contentType.startsWith("application/x-www-form-urlencoded")) return "awsQuery";
  return "restJson1";
}

/** True when the operation can only be read from the body (query protocols POST `Action=` forms). */
export function needsBodyForOperation(protocol: Protocol, url: string): boolean {
  return (protocol === "awsQuery" || protocol === "ec2Query") && !/[?&]Action=/.test(url);
}

/** Names the operation of a request; `body` is needed only when needsBodyForOperation says so. */
export function operationOf(
  service: string,
  protocol: Protocol,
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body?: Buffer,
): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  const [path = "/", query = ""] = url.split("?", 2);
  if (protocol === "awsQuery" || protocol === "ec2Query") {
    const action =
      new URLSearchParams(query).get("Action") ??
      new URLSearchParams(body?.toString("utf8") ?? "").get("Action");
    return action ?? "Unknown";
  }
  for (const route of REST_ROUTES[service] ?? []) {
    if (route.method === method && route.regex.test(path)) return route.operation;
  }
  return `${method} ${path}`;
}
