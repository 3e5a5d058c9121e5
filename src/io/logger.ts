import type { Logger } from "pino";
import { REDACTED_KEYS, redact } from "./redact.js";

/**
 * Diagnostic logger (pino, JSON on stderr), with secrets redacted by key and message text
 * scrubbed. Loaded only by commands that log, so start-up stays fast.
 */
export async function createLogger(
  level: string,
  destination: NodeJS.WritableStream = process.stderr,
): Promise<Logger> {
  const { pino } = await import("pino");
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACTED_KEYS, censor: "[REDACTED]" },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === "string" ? redact(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination as never,
  );
}
