import https from "node:https";
import { KubecontrolError } from "../errors.js";
import { gatedChange } from "../fence.js";
import { type ResourceInfo, resourceFor } from "./resources.js";

/**
 * What KubeClient needs of a kubeconfig: the current cluster's server, and per request its TLS
 * material and Authorization header. @kubernetes/client-node's KubeConfig is one; cluster-access.ts
 * makes lighter ones, so that a deployment never loads that package (about 80 MB of RSS).
 */
export interface KubeAccess {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

const MAX_ATTEMPTS = 4;

/** How long one request (not a watch) may take by default; runs pass the operator's requestTimeout. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface KubeClientOptions {
  /** How long one request (not a watch) may take before it fails. */
  requestTimeoutMs?: number;
}

/** Any Kubernetes object as JSON. */
export interface KubeResource {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    managedFields?: { manager?: string; operation?: string }[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** A failed API call: the HTTP status and the API server's reason, never the credentials. */
export class KubeApiError extends KubecontrolError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super("KUBE", message, { retryable: status === 429 || status >= 500, details: { status, reason } });
  }
}

/**
 * A small JSON client for the Kubernetes API over one keep-alive HTTPS agent. KubeConfig supplies
 * the endpoint, TLS material and the Authorization header (asked per request, so EKS tokens refresh).
 */
export class KubeClient {
  private agent: https.Agent | undefined;
  private readonly resources = new Map<string, Promise<ResourceInfo>>();
  readonly server: string;

  private readonly requestTimeoutMs: number;

  constructor(
    readonly kubeConfig: KubeAccess,
    options: KubeClientOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new KubecontrolError("KUBE", "the kubeconfig names no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
  }

  /** Resolves a kind's REST resource (plural, namespaced) through discovery, cached. */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const key = `${apiVersion}/${kind}`;
    let found = this.resources.get(key);
    if (!found) {
      found = resourceFor(this, apiVersion, kind);
      found.catch(() => this.resources.delete(key));
      this.resources.set(key, found);
    }
    return found;
  }

  /** The REST path of a collection or of one object. */
  async pathOf(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  /**
   * One JSON request, within the request timeout; throws KubeApiError for a non-2xx answer. A
   * write (anything but GET and a server-side dry run) asks the run's lease first, every attempt.
   */
  async request<T = KubeResource>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const writes = method !== "GET" && options.query?.dryRun !== "All";
    // GET, apply, a patch to a value and DELETE are idempotent, so a transient failure (429, 5xx,
    // a dropped connection) is retried a few times, with jitter; a POST could create twice.
    for (let attempt = 1; ; attempt++) {
      try {
        const signal = AbortSignal.any([
          ...(options.signal ? [options.signal] : []),
          AbortSignal.timeout(this.requestTimeoutMs),
        ]);
        const exchange = async () => {
          const res = await this.send(method, path, { ...options, signal });
          return { res, text: await readAll(res) };
        };
        const { res, text } = writes
          ? await gatedChange(`Kubernetes ${method} ${path}`, exchange)
          : await exchange();
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) throw apiError(method, path, status, text);
        return (text ? JSON.parse(text) : undefined) as T;
      } catch (thrown) {
        // Our own deadline, not the caller's signal: a timeout, which a retry may get past.
        const err =
          !options.signal?.aborted && isAbort(thrown)
            ? new KubecontrolError(
                "KUBE",
                `${method} ${path}: no answer within ${Math.round(this.requestTimeoutMs / 1000)}s`,
                { retryable: true, cause: thrown },
              )
            : thrown;
        const retryable =
          method !== "POST" && err instanceof KubecontrolError && err.retryable && !options.signal?.aborted;
        if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt * (0.8 + Math.random() * 0.4)));
      }
    }
  }

  /** Like request, but a 404 gives undefined. */
  async get<T = KubeResource>(path: string, options: RequestOptions = {}): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", path, options);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Plain-text GET (pod logs). */
  async text(path: string, options: RequestOptions = {}): Promise<string> {
    const res = await this.send("GET", path, options);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError("GET", path, status, text);
    return text;
  }

  /** Opens a streaming GET (a watch) and hands back the response once headers arrive. */
  async stream(path: string, options: RequestOptions = {}): Promise<import("node:http").IncomingMessage> {
    const res = await this.send("GET", path, options);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError("GET", path, status, await readAll(res));
    return res;
  }

  /** Closes idle connections (the agent keeps them alive between calls). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async send(method: string, path: string, options: RequestOptions) {
    const auth: { headers?: Record<string, string>; ca?: unknown; cert?: unknown; key?: unknown } = {};
    await this.kubeConfig.applyToHTTPSOptions(auth as https.RequestOptions);
    this.agent ??= new https.Agent({
      keepAlive: true,
      maxSockets: 32,
      ca: auth.ca as string | undefined,
      cert: auth.cert as string | undefined,
      key: auth.key as string | undefined,
    });
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...(auth.headers ?? {}), accept: "application/json" };
    if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    return new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent, signal: options.signal }, resolve);
      req.on("error", (err) =>
        reject(
          options.signal?.aborted
            ? err
            : new KubecontrolError("KUBE", `${method} ${url.pathname} failed: ${err.message}`, {
                cause: err,
                retryable: true,
              }),
        ),
      );
      req.end(body);
    });
  }
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: string; code?: string })?.name;
  const code = (err as { code?: string })?.code;
  return name === "AbortError" || name === "TimeoutError" || code === "ABORT_ERR";
}

function readAll(res: import("node:http").IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let reason = "";
  let message = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? "";
    message = parsed.message ?? message;
  } catch {
    // Not a Status object: keep the start of the body.
  }
  return new KubeApiError(
    status,
    reason,
    `${method} ${path}: ${status} ${reason ? `${reason}: ` : ""}${message}`,
  );
}
