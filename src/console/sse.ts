import type { ServerResponse } from "node:http";
import type { HistoryStore } from "../history/types.js";
import { type RunLive, runLive } from "./data.js";
import { scrubValue } from "./html.js";

/**
 * Server-sent events of runs: one poller per run however many pages watch it, reading the store
 * every `pollMs`; each change of its steps or result is sent at once, and every few seconds the
 * state is sent again anyway, so the page's "as of" moves and a run that stops reporting shows
 * as stale. A finished run is sent once more and its streams end.
 */
export class RunStreams {
  private readonly watched = new Map<
    string,
    { clients: Set<ServerResponse>; timer: NodeJS.Timeout; last: string; sentAt: number }
  >();

  constructor(
    private readonly store: HistoryStore,
    private readonly pollMs = 500,
    private readonly refreshMs = 5000,
  ) {}

  async open(id: string, res: ServerResponse): Promise<boolean> {
    const first = await runLive(this.store, id);
    if (!first) return false;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    send(res, first);
    if (first.result !== "running") {
      res.end();
      return true;
    }
    let w = this.watched.get(id);
    if (!w) {
      const entry = {
        clients: new Set<ServerResponse>(),
        timer: undefined as unknown as NodeJS.Timeout,
        last: signature(first),
        sentAt: Date.now(),
      };
      entry.timer = setInterval(() => void this.poll(id), this.pollMs);
      this.watched.set(id, entry);
      w = entry;
    }
    w.clients.add(res);
    res.on("close", () => {
      w.clients.delete(res);
      if (w.clients.size === 0) this.stop(id);
    });
    return true;
  }

  private async poll(id: string): Promise<void> {
    const w = this.watched.get(id);
    if (!w) return;
    const live = await runLive(this.store, id).catch(() => undefined);
    if (!live) return;
    const sig = signature(live);
    if (sig === w.last && Date.now() - w.sentAt < this.refreshMs && live.result === "running") return;
    w.last = sig;
    w.sentAt = Date.now();
    for (const c of w.clients) send(c, live);
    if (live.result !== "running") {
      for (const c of w.clients) c.end();
      this.stop(id);
    }
  }

  private stop(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    clearInterval(w.timer);
    this.watched.delete(id);
  }

  close(): void {
    for (const [id, w] of this.watched) {
      for (const c of w.clients) c.end();
      this.stop(id);
    }
  }
}

function signature(l: RunLive): string {
  return JSON.stringify([l.result, l.stale, l.steps]);
}

function send(res: ServerResponse, live: RunLive): void {
  res.write(`event: run\ndata: ${JSON.stringify(scrubValue(live))}\n\n`);
}
