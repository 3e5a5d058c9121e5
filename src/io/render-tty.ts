import type { EventSink } from "./events.js";
import { createTtyView, type TtyStream } from "./tty-view.js";

/** The terminal renderer: an event sink, and `stop()` to end it. */
export type TtyRenderer = EventSink & {
  /** Ends the view at once: its final frame is on the terminal when this returns, nothing after. */
  stop(): void;
};

/**
 * Live view of one run on a terminal (src/io/tty-view.ts): the run's phase, steps done and time
 * left; steps as they start, running ones side by side with elapsed time and what they wait
 * for, each ended one with its mark, summary and duration. Everything shown is redacted.
 */
export function ttyRenderer(out: TtyStream = process.stderr): TtyRenderer {
  const view = createTtyView(out);
  const sink = ((e) => view.emit(e)) as TtyRenderer;
  sink.stop = () => view.stop();
  return sink;
}
