import { formatDuration } from "../io/format.js";
import { redact, redactValue } from "../io/redact.js";

/** How a run ended, as a notification tells it. */
export interface Notice {
  app: string;
  command: string;
  version?: string | null | undefined;
  result: "succeeded" | "no-op" | "failed" | "cancelled";
  exitCode: number;
  durationMs: number;
  /** The history run, when the run got as far as being recorded. */
  runId?: string | undefined;
  error?: { code: string; message: string; hint?: string | undefined } | undefined;
  /** user@host of whoever ran it. */
  who: string;
}

/** What became of one webhook's notification. */
export interface Delivery {
  /** The webhook as it may be shown: its number and host, never its path (the token). */
  target: string;
  ok: boolean;
  attempts: number;
  /** Why it failed, for the warning (no URL in it). */
  reason?: string;
}

/**
 * Slack-compatible JSON (an incoming webhook's `text` and `blocks`; Mattermost and others read
 * `text`): app, command, version, result and exit code, duration, the first error and its hint,
 * the history run id. Redacted as every event is.
 */
export function noticeBody(n: Notice): { text: string; blocks: unknown[] } {
  const ok = n.result === "succeeded" || n.result === "no-op";
  const version = n.version ? n.version.slice(0, 12) : "-";
  const headline = `${ok ? "✅" : "❌"} ${n.command} ${n.app} ${n.result}${ok ? "" : ` (exit ${n.exitCode})`} in ${formatDuration(n.durationMs)}`;
  const error = n.error
    ? `${n.error.code}: ${clip(n.error.message, 1500)}${n.error.hint ? `\nhint: ${clip(n.error.hint, 500)}` : ""}`
    : undefined;
  const text = [
    headline,
    `version ${version}${n.runId ? `, run ${n.runId}` : ""}, by ${n.who}`,
    ...(error ? [error] : []),
  ].join("\n");
  const field = (title: string, value: string) => ({ type: "mrkdwn", text: `*${title}*\n${slack(value)}` });
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${slack(headline)}*` } },
    {
      type: "section",
      fields: [
        field("App", n.app),
        field("Command", n.command),
        field("Version", version),
        field("Result", ok ? n.result : `${n.result} (exit ${n.exitCode})`),
        field("Duration", formatDuration(n.durationMs)),
        field("History run", n.runId ?? "-"),
      ],
    },
  ];
  if (n.error)
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Error* ${slack(`${n.error.code}: ${clip(n.error.message, 1500)}`)}${n.error.hint ? `\n*Hint* ${slack(clip(n.error.hint, 500))}` : ""}`,
      },
    });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: slack(`kubecontrol, run by ${n.who}`) }],
  });
  return redactValue({ text, blocks });
}

/** Slack's mrkdwn reads &, < and > as markup. */
function slack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** The longest one attempt may wait for an answer, within the total. */
const ATTEMPT_MS = 5_000;

/**
 * Posts the body to every webhook at once. Each is tried again after no answer, a 429 or a 5xx,
 * with a growing pause, until it is taken or `timeoutMs` in all has passed; a 4xx other than
 * 429 is final (a revoked or mistyped hook). Never throws.
 */
export async function sendNotifications(
  urls: readonly string[],
  body: unknown,
  o: { timeoutMs: number; now?: () => number },
): Promise<Delivery[]> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const payload = JSON.stringify(body);
  return Promise.all(urls.map((url, i) => deliver(url, `webhook ${i + 1} (${hostOf(url)})`)));

  async function deliver(url: string, target: string): Promise<Delivery> {
    let reason = "not tried";
    for (let attempt = 1; ; attempt++) {
      const left = deadline - now();
      if (left <= 0) return { target, ok: false, attempts: attempt - 1, reason };
      let pause = 500 * 2 ** (attempt - 1);
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: payload,
          signal: AbortSignal.timeout(Math.min(left, ATTEMPT_MS)),
          redirect: "error",
        });
        await res.body?.cancel().catch(() => {});
        if (res.ok) return { target, ok: true, attempts: attempt };
        reason = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) return { target, ok: false, attempts: attempt, reason };
        const after = Number(res.headers.get("retry-after"));
        if (after > 0) pause = after * 1000;
      } catch (err) {
        reason = whyNot(err, Math.min(left, ATTEMPT_MS));
      }
      const wait = Math.min(pause, deadline - now());
      if (wait <= 0) return { target, ok: false, attempts: attempt, reason };
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Why a request got no answer, in words that never hold its URL. */
function whyNot(err: unknown, waitedMs: number): string {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError")
    return `no answer within ${formatDuration(waitedMs)}`;
  const code = e?.cause?.code;
  return code ? `could not connect (${code})` : "the request failed";
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "an unreadable URL";
  }
}

/** The deliveries as lines for the run's output: a warning per failure, one line for the rest. */
export function describeDeliveries(d: readonly Delivery[]): { level: "info" | "warn"; message: string }[] {
  const lines: { level: "info" | "warn"; message: string }[] = [];
  const ok = d.filter((x) => x.ok);
  if (ok.length > 0) lines.push({ level: "info", message: `notified ${ok.map((x) => x.target).join(", ")}` });
  for (const x of d.filter((y) => !y.ok))
    lines.push({
      level: "warn",
      message: redact(
        `could not notify ${x.target}: ${x.reason} (${x.attempts} attempt${x.attempts === 1 ? "" : "s"}); the run's result stands`,
      ),
    });
  return lines;
}
