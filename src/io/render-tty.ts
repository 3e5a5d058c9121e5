import type { EventSink, KubecontrolEvent } from "./events.js";
import { describeEvent } from "./format.js";
import { redact } from "./redact.js";
import type { TtyStream, TtyView } from "./tty-view.js";

/** The terminal renderer: an event sink, `stop()` to end it, `ready` once it draws. */
export type TtyRenderer = EventSink & {
  /** Ends the view at once: its final frame is on the terminal when this returns, nothing after. */
  stop(): void;
  /** Resolves when the live view draws (or never will: stopped, or listr2 failed to load). */
  ready: Promise<void>;
};

/**
 * Live view for a terminal (listr2, src/io/tty-view.ts): steps as they start, running ones side
 * by side with elapsed time and what they wait for, each ended one with its mark, summary and
 * duration. listr2 is imported here, lazily, so that only a run shown on a terminal loads it;
 * events that come before it has loaded are kept and replayed. Should `stop()` come first, or
 * listr2 fail to load, those events are written as plain lines instead. Everything shown is
 * redacted (src/io/redact.ts).
 */
export function ttyRenderer(out: TtyStream = process.stderr): TtyRenderer {
  let view: TtyView | undefined;
  let failed = false;
  let stopped = false;
  // Kept until the view draws: what stop() writes as plain lines if it never did.
  const early: KubecontrolEvent[] = [];
  const plain = (e: KubecontrolEvent) => {
    const line = describeEvent(e);
    if (line !== undefined) out.write(`${redact(line)}\n`);
  };

  const loaded = import("./tty-view.js").then(
    ({ createTtyView }) => {
      if (stopped) return;
      view = createTtyView(out);
      for (const e of early) view.emit(e);
      return view.ready;
    },
    () => {
      // Without listr2 the run is still shown, as plain lines.
      failed = true;
      if (stopped) return;
      for (const e of early.splice(0)) plain(e);
    },
  );

  const sink = ((e: KubecontrolEvent) => {
    if (stopped) return;
    if (failed) return plain(e);
    if (view?.live) early.length = 0;
    else early.push(e);
    view?.emit(e);
  }) as TtyRenderer;
  sink.ready = loaded.then(() => undefined);
  sink.stop = () => {
    if (stopped) return;
    stopped = true;
    const drawn = view?.live === true;
    view?.stop();
    if (!drawn) for (const e of early.splice(0)) plain(e);
  };
  return sink;
}
