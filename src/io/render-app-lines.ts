import type { EventSink, KubecontrolEvent } from "./events.js";
import { formatDuration } from "./format.js";
import { redact } from "./redact.js";

/** What the per-app view writes to: a terminal (its width, when known). */
export type LineStream = Pick<NodeJS.WriteStream, "write"> & { columns?: number };

/** How an app's run ended, for its last line. */
export interface AppEnd {
  ok: boolean;
  text: string;
}

/** One line per app, redrawn in place: several apps' runs at once on one terminal. */
export interface AppLinesView {
  /** The sink for one app's events. */
  sink(app: string): EventSink;
  /** Ends an app's line with its result. */
  end(app: string, end: AppEnd): void;
  /** Draws the last frame and stops redrawing; nothing is written after it. */
  stop(): void;
}

interface AppLine {
  state: "waiting" | "running" | "ended";
  startedAt?: number;
  steps?: number;
  done: number;
  /** The step most recently heard from, and what it said. */
  doing?: string;
  end?: AppEnd;
  endedAt?: number;
}

/**
 * One line per app, each saying where its run is (steps done of all, elapsed time, the step last
 * heard from and what it waits for), redrawn in place once a second and on events; an ended
 * app's line keeps its result. A small view of its own, for `update` and `rollout` of several
 * apps; the single-app view is src/io/render-tty.ts. Everything shown is redacted.
 */
export function appLinesView(out: LineStream, apps: readonly string[], now = Date.now): AppLinesView {
  const lines = new Map<string, AppLine>(apps.map((a) => [a, { state: "waiting", done: 0 }]));
  const width = Math.max(...apps.map((a) => a.length));
  let drawn = 0;
  let stopped = false;
  let pending: NodeJS.Timeout | undefined;

  const text = (app: string, l: AppLine): string => {
    const name = app.padEnd(width);
    if (l.state === "waiting") return `${name}  … waiting for a free slot`;
    const elapsed = formatDuration((l.endedAt ?? now()) - (l.startedAt ?? now()));
    if (l.state === "ended" && l.end) return `${name}  ${l.end.ok ? "✓" : "✗"} ${l.end.text} (${elapsed})`;
    const progress = l.steps ? `${l.done}/${l.steps} steps` : "starting";
    return `${name}  ▸ ${progress}  ${elapsed}${l.doing ? `  ${l.doing}` : ""}`;
  };

  const draw = () => {
    pending = undefined;
    if (stopped) return;
    const cols = Math.max(20, (out.columns ?? 120) - 1);
    const frame = apps.map((a) => {
      const t = redact(text(a, lines.get(a)!));
      return `\x1b[2K${t.length > cols ? `${t.slice(0, cols - 1)}…` : t}\n`;
    });
    out.write(`${drawn ? `\x1b[${drawn}F` : ""}${frame.join("")}`);
    drawn = apps.length;
  };
  const soon = () => {
    pending ??= setTimeout(draw, 100);
  };
  const ticker = setInterval(draw, 1000);
  ticker.unref();
  draw();

  const onEvent = (l: AppLine, e: KubecontrolEvent) => {
    if (l.state === "waiting") {
      l.state = "running";
      l.startedAt = e.at;
    }
    switch (e.type) {
      case "run.started":
        l.steps = e.steps;
        break;
      case "step.started":
        l.doing = `${e.step}: ${e.description}`;
        break;
      case "step.waiting":
        l.doing = `${e.step}: ${e.reason}`;
        break;
      case "step.retrying":
        l.doing = `${e.step}: attempt ${e.attempt} (${e.reason})`;
        break;
      case "step.succeeded":
      case "step.failed":
      case "step.skipped":
        l.done++;
        if (e.type === "step.failed") l.doing = `${e.step}: FAILED: ${e.error.message}`;
        break;
      default:
        break;
    }
    soon();
  };

  return {
    sink(app) {
      return (e) => {
        const l = lines.get(app);
        if (!stopped && l && l.state !== "ended") onEvent(l, e);
      };
    },
    end(app, end) {
      const l = lines.get(app);
      if (!l) return;
      l.startedAt ??= now();
      l.state = "ended";
      l.end = end;
      l.endedAt = now();
      soon();
    },
    stop() {
      if (stopped) return;
      clearInterval(ticker);
      if (pending) clearTimeout(pending);
      draw();
      stopped = true;
    },
  };
}
