import { createInterface } from "node:readline";
import type { KubeClient, KubeResource } from "../client.js";
import { KubeApiError } from "../client.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ListWatchOptions {
  /** The collection's REST path, e.g. /apis/apps/v1/namespaces/web/deployments. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called after the initial list and on every change, with the cache already updated. */
  onChange(type: WatchEventType, object: KubeResource): void;
  /** A watch that cannot be re-established (e.g. 403). */
  onError?(err: Error): void;
}

/**
 * A minimal informer: lists a collection, then watches it from the list's resourceVersion,
 * re-watching from the last seen version when the server closes the stream and listing afresh
 * when that version is too old (410 Gone). Keeps a cache keyed by namespace/name.
 */
export class ListWatch {
  readonly cache = new Map<string, KubeResource>();
  private resourceVersion = "";
  private readonly controller = new AbortController();
  private stopped = false;
  /** Resolves once the initial list is in the cache. */
  readonly synced: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    private readonly options: ListWatchOptions,
  ) {
    this.synced = this.list();
    this.synced.then(
      () => this.loop(),
      (err: Error) => this.options.onError?.(err),
    );
  }

  /** Stops watching; the cache keeps its last state. */
  stop(): void {
    this.stopped = true;
    this.controller.abort();
  }

  /** Cached objects, in no particular order. */
  items(): KubeResource[] {
    return [...this.cache.values()];
  }

  private async list(): Promise<void> {
    const out = await this.client.request<{ items: KubeResource[]; metadata: { resourceVersion: string } }>(
      "GET",
      this.options.path,
      { query: this.selectors(), signal: this.controller.signal },
    );
    const seen = new Set<string>();
    for (const item of out.items) {
      const key = keyOf(item);
      seen.add(key);
      this.cache.set(key, item);
      this.options.onChange("ADDED", item);
    }
    for (const [key, item] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.options.onChange("DELETED", item);
      }
    }
    this.resourceVersion = out.metadata.resourceVersion;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.watchOnce();
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && err.status === 410) {
          await this.list().catch(() => {});
          continue;
        }
        if (err instanceof KubeApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
          this.options.onError?.(err);
          return;
        }
        failures++;
        // A dropped connection is normal (API server restarts, idle timeouts): back off a little.
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** failures)));
      }
    }
  }

  private async watchOnce(): Promise<void> {
    const res = await this.client.stream(this.options.path, {
      query: {
        ...this.selectors(),
        watch: true,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: 300,
      },
      signal: this.controller.signal,
    });
    const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (!line) continue;
      const event = JSON.parse(line) as { type: string; object: KubeResource & { code?: number } };
      if (event.type === "ERROR") {
        const status = event.object.code ?? 500;
        throw new KubeApiError(
          status,
          String(event.object.reason ?? ""),
          String(event.object.message ?? "watch error"),
        );
      }
      const rv = event.object.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (event.type === "BOOKMARK") continue;
      const key = keyOf(event.object);
      if (event.type === "DELETED") this.cache.delete(key);
      else this.cache.set(key, event.object);
      this.options.onChange(event.type as WatchEventType, event.object);
    }
  }

  private selectors(): Record<string, string | undefined> {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }
}

/** namespace/name, the cache key. */
export function keyOf(o: KubeResource): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}
