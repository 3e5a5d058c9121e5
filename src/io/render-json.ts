import type { EventSink } from "./events.js";

/** NDJSON: one event per line, for --json, cron and scripts. */
export function jsonRenderer(out: NodeJS.WritableStream = process.stdout): EventSink {
  return (event) => {
    out.write(`${JSON.stringify(event)}\n`);
  };
}
