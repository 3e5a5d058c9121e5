import type { EventSink, KubecontrolEvent } from "./events.js";
import { describeEvent, formatDuration } from "./format.js";

type Row = {
  step: string;
  state: "running" | "waiting" | "done" | "unchanged" | "failed" | "skipped";
  text: string;
  since: number;
};

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const MARK: Record<Row["state"], string> = {
  running: "",
  waiting: "",
  done: "✔",
  unchanged: "=",
  failed: "✖",
  skipped: "↓",
};

/**
 * Live view for a terminal: finished steps scroll up as permanent lines, running steps stay in
 * a block at the bottom with a spinner, elapsed time and what they wait for.
 */
export function ttyRenderer(out: NodeJS.WriteStream = process.stderr): EventSink & { stop(): void } {
  const live = new Map<string, Row>();
  let drawn = 0;
  let frame = 0;
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    const now = Date.now();
    const lines = [...live.values()].map(
      (r) =>
        `${FRAMES[frame % FRAMES.length]} ${r.step} ${formatDuration(now - r.since)}${r.text ? `  ${r.text}` : ""}`,
    );
    const width = out.columns ?? 120;
    for (const l of lines) out.write(`${l.length > width ? `${l.slice(0, width - 1)}…` : l}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(() => {
    frame++;
    if (live.size > 0) draw();
  }, 120);
  timer.unref();
  const permanent = (text: string) => {
    clear();
    out.write(`${text}\n`);
    draw();
  };
  const sink = ((e: KubecontrolEvent) => {
    switch (e.type) {
      case "step.started":
        live.set(e.step, { step: e.step, state: "running", text: e.description, since: e.at });
        draw();
        return;
      case "step.waiting": {
        const row = live.get(e.step);
        if (row) row.text = `waiting for ${e.reason}`;
        draw();
        return;
      }
      case "step.succeeded":
        live.delete(e.step);
        permanent(
          `${e.changed ? MARK.done : MARK.unchanged} ${e.step}: ${e.summary} (${formatDuration(e.durationMs)})`,
        );
        return;
      case "step.failed":
        live.delete(e.step);
        permanent(`${MARK.failed} ${e.step}: ${e.error.message}`);
        return;
      case "step.skipped":
        permanent(`${MARK.skipped} ${e.step}: skipped (${e.reason})`);
        return;
      case "step.checked":
      case "step.retrying":
        return;
      default: {
        const line = describeEvent(e);
        if (line) permanent(line);
      }
    }
  }) as EventSink & { stop(): void };
  sink.stop = () => {
    clearInterval(timer);
    clear();
  };
  return sink;
}
