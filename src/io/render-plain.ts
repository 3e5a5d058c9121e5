import type { EventSink } from "./events.js";
import { describeEvent } from "./format.js";

/** Timestamped plain lines, for cron and pipes (no TTY). */
export function plainRenderer(out: NodeJS.WritableStream = process.stderr, verbose = false): EventSink {
  return (event) => {
    const line = describeEvent(event, verbose);
    if (line !== undefined) out.write(`${new Date(event.at).toISOString()} ${line}\n`);
  };
}
