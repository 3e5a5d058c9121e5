import { KubecontrolError } from "../errors.js";

/** Calls a sandbox admin endpoint (moto's /_sandbox or the proxy's /_proxy) and returns its JSON. */
export async function adminCall<T = unknown>(
  url: string,
  options: { method?: "GET" | "POST" | "DELETE"; body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers: options.body === undefined ? undefined : { "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new KubecontrolError("SANDBOX", `the sandbox did not answer ${url}: ${(err as Error).message}`, {
      hint: "is it up? `kubecontrol sandbox status` shows each component",
      cause: err,
      retryable: true,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message = (body as { error?: string } | undefined)?.error ?? text;
    throw new KubecontrolError("SANDBOX", `${url} answered ${response.status}: ${message}`, {
      details: { url, status: response.status },
    });
  }
  return body as T;
}

/** One health probe: ok when the URL answers 2xx within the timeout, else why not. */
export async function probe(url: string, timeoutMs = 2000): Promise<{ ok: boolean; detail?: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return response.ok ? { ok: true } : { ok: false, detail: `${response.status} ${text.slice(0, 200)}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}
