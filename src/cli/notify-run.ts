import { notifyTimeoutMs, type ResolvedConfig } from "../config/config.js";
import type { KubecontrolError } from "../errors.js";
import { whoAmI } from "../history/lease.js";
import type { KubecontrolEvent } from "../io/events.js";
import { exitCodeFor } from "./exit-codes.js";

/** Which run a notification is about. */
export interface NotifySubject {
  app: string;
  command: string;
}

/**
 * Notifies the operator's webhooks (config notifyWebhooks, notifyOn) of how a run ended, at its
 * end: it follows the run's events for its version, history run id and result, and is told the
 * error it ended with. Sending is bounded (notifyTimeout) and never changes the run's result or
 * exit code: what became of it is only reported, through `say`.
 */
export function runNotifier(config: ResolvedConfig, subject: NotifySubject) {
  const { notifyWebhooks: urls, notifyOn: on } = config.values;
  const startedAt = Date.now();
  let started: Extract<KubecontrolEvent, { type: "run.started" }> | undefined;
  let finished: Extract<KubecontrolEvent, { type: "run.finished" }> | undefined;
  return {
    observe(e: KubecontrolEvent): void {
      if (e.type === "run.started") started = e;
      else if (e.type === "run.finished") finished = e;
    },
    async finish(
      error: KubecontrolError | undefined,
      say: (level: "info" | "warn", message: string) => void,
    ): Promise<void> {
      if (urls.length === 0) return;
      try {
        const result =
          finished?.result ?? (error ? (error.code === "CANCELLED" ? "cancelled" : "failed") : "succeeded");
        const failed = result === "failed" || result === "cancelled";
        if (!on.includes(failed ? "failure" : "success")) return;
        const webhook = await import("../notify/webhook.js");
        const body = webhook.noticeBody({
          app: subject.app,
          command: subject.command,
          version: finished?.version ?? started?.version,
          result,
          exitCode: error ? exitCodeFor(error.code) : 0,
          durationMs: finished?.durationMs ?? Date.now() - startedAt,
          runId: finished?.runId ?? started?.runId,
          error: error ? { code: error.code, message: error.message, hint: error.hint } : undefined,
          who: whoAmI(),
        });
        const deliveries = await webhook.sendNotifications(urls, body, {
          timeoutMs: notifyTimeoutMs(config.values),
        });
        for (const line of webhook.describeDeliveries(deliveries)) say(line.level, line.message);
      } catch (err) {
        // A notification never changes how the run ended.
        say("warn", `could not notify: ${(err as Error).message}; the run's result stands`);
      }
    },
  };
}
