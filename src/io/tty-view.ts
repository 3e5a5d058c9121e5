/**
 * The live view of a run on a terminal, drawn from the event stream by a small renderer of our
 * own (docs/architecture.md says why not listr2).
 *
 * The view is a model (lanes of entries, updated by events) and a pure function from the model
 * to the lines of a frame; a timer redraws the frame ten times a second over the previous one,
 * for the spinner and the clocks. A lane is one run: its header says the phase, the steps done
 * and the time left; its entries are the steps in the order they started, running ones with
 * their elapsed time and what they do or wait for, ended ones with their mark, summary and
 * duration. With `oneLinePerLane`, each lane is its header line only (several apps at once).
 *
 * For Ctrl-C the view adds no signal handler (the command's own stays the only one) and
 * `stop()` is synchronous: the final frame is on the terminal when it returns, and nothing of
 * the view comes after. What else is written to the terminal while the view draws is put above
 * the frame, which is drawn again below it.
 */
import type { KubecontrolEvent, Phase } from "./events.js";
import { formatDuration, timeLeft } from "./format.js";
import { redact } from "./redact.js";

/** The view of one run, or of several (one lane each). */
export interface TtyView {
  /** Applies an event to the lane `lane` (one per app when several run at once). */
  emit(event: KubecontrolEvent, lane?: string): void;
  /** Ends the view now: the final frame, then nothing more. */
  stop(): void;
}

/** What a terminal stream offers the view. */
export type TtyStream = Pick<NodeJS.WriteStream, "write"> & { columns?: number; rows?: number };

export interface TtyViewOptions {
  /** Each lane as its header line alone. */
  oneLinePerLane?: boolean;
  /** How often the frame is drawn again without news (spinner, clocks). */
  tickMs?: number;
}

type End = { kind: "succeeded" | "failed" | "skipped"; text: string; unchanged?: boolean; hint?: string };
type Progress = Extract<KubecontrolEvent, { type: "run.progress" }>;

interface Entry {
  label: string;
  since: number;
  /** What the step does or waits for now (shown while it runs). */
  current: string;
  /** Warnings and errors it logged (shown until the end). */
  notes: string[];
  end?: End;
  /** A note of the run, not a step. */
  note?: "info" | "warn";
}

export interface Lane {
  header?: Entry & { steps: number; phases: Phase[] };
  progress?: Progress;
  entries: Entry[];
  steps: Map<string, Entry>;
}

const MAX_NOTES = 5;
const ESC = "\x1b";
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const colours = !process.env.NO_COLOR && process.env.FORCE_COLOR !== "0";
const sgr = (open: number, close: number) => (t: string) =>
  colours ? `${ESC}[${open}m${t}${ESC}[${close}m` : t;
const [green, red, yellow, dim] = [sgr(32, 39), sgr(31, 39), sgr(33, 39), sgr(2, 22)];

export function createTtyView(out: TtyStream, options: TtyViewOptions = {}): TtyView {
  const lanes = new Map<string, Lane>();
  const laneOf = (key: string) => {
    const lane = lanes.get(key) ?? { entries: [], steps: new Map() };
    lanes.set(key, lane);
    return lane;
  };
  const rawWrite = out.write.bind(out) as (chunk: string) => boolean;
  // What to put back at the end: the stream's own write, or the one of its prototype.
  const ownWrite = Object.hasOwn(out, "write") ? out.write : undefined;
  const size = () => ({
    columns: out.columns && out.columns > 0 ? out.columns : 80,
    rows: out.rows && out.rows > 0 ? out.rows : 24,
  });
  let drawn = 0;
  let tick = 0;
  let stopped = false;

  /** Takes the previous frame off the terminal: up a line and clear it, once per line. */
  const erase = () => (drawn > 0 ? `${`${ESC}[1A${ESC}[2K`.repeat(drawn)}${ESC}[G` : "");
  const draw = (final = false) => {
    const { columns, rows } = size();
    const shown = frame([...lanes.values()], {
      now: Date.now(),
      columns,
      tick: tick++,
      final,
      ...(final ? {} : { rows: rows - 1 }),
      ...options,
    });
    rawWrite(`${erase()}${shown.map((l) => `${l}\n`).join("")}`);
    drawn = final ? 0 : shown.length;
  };
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    process.off("exit", stop);
    if (timer) {
      if (ownWrite) (out as { write: unknown }).write = ownWrite;
      else delete (out as { write?: unknown }).write;
    }
    if (lanes.size > 0) draw(true);
  };
  // From the first event on (not before: a question asked before the run must stay as it is).
  const start = () => {
    // Anything else written meanwhile goes above the frame, which is drawn again below it.
    (out as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
      rawWrite(erase());
      drawn = 0;
      const ok = (rawWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
      if (!String(chunk).endsWith("\n")) rawWrite("\n");
      draw();
      return ok;
    };
    timer = setInterval(() => draw(), options.tickMs ?? 100);
    timer.unref();
    // A command that never stops the view (it exits) still gets its final frame.
    process.once("exit", stop);
  };

  return {
    stop,
    emit(e, key = "") {
      if (stopped) return;
      apply(laneOf(key), e);
      // The timer draws what events change; the first one is drawn at once.
      if (!timer) {
        start();
        draw();
      }
    },
  };
}

/** What an event changes in its lane. Text is redacted as it enters the model. */
function apply(lane: Lane, e: KubecontrolEvent): void {
  const step = "step" in e && e.step ? lane.steps.get(e.step) : undefined;
  const running = step && !step.end ? step : undefined;
  const add = (label: string, at: number): Entry => {
    const entry: Entry = { label: redact(label), since: at, current: "", notes: [] };
    lane.entries.push(entry);
    return entry;
  };
  const end = (entry: Entry, value: End) => {
    entry.end ??= { ...value, text: redact(value.text), ...(value.hint ? { hint: redact(value.hint) } : {}) };
  };
  switch (e.type) {
    case "run.started":
      lane.header = {
        label: redact(`${e.command}${e.app ? ` ${e.app}` : ""}`),
        since: e.at,
        current: `run ${e.runId}`,
        notes: [],
        steps: e.steps,
        phases: e.phases ?? [],
      };
      return;
    case "run.progress":
      lane.progress = e;
      return;
    case "run.finished":
      if (lane.header)
        end(lane.header, {
          kind: e.result === "failed" || e.result === "cancelled" ? "failed" : "succeeded",
          text: `${lane.header.label}: ${e.result} ${dim(`in ${formatDuration(e.durationMs)}`)}`,
        });
      return;
    case "step.started":
      if (!step) {
        const entry = add(e.step, e.at);
        entry.current = redact(e.description);
        lane.steps.set(e.step, entry);
      }
      return;
    case "step.checked":
      if (running && !e.satisfied) running.current = redact(`needed: ${e.reason}`);
      return;
    case "step.waiting":
      if (running) running.current = redact(`still waiting for ${e.reason} (${formatDuration(e.elapsedMs)})`);
      return;
    case "step.retrying":
      if (running)
        running.current = redact(
          `attempt ${e.attempt} failed (${e.reason}); retrying in ${formatDuration(e.delayMs)}`,
        );
      return;
    case "step.succeeded":
      if (step)
        end(step, {
          kind: "succeeded",
          text: `${step.label}: ${e.summary} ${dim(`(${formatDuration(e.durationMs)})`)}`,
          unchanged: !e.changed,
        });
      return;
    case "step.failed": {
      if (!step) return;
      const cancelled = e.error.code === "CANCELLED";
      end(step, {
        kind: "failed",
        text: `${step.label}: ${cancelled ? "cancelled" : e.error.message} ${dim(`(${formatDuration(e.durationMs)})`)}`,
        ...(e.error.hint && !cancelled ? { hint: e.error.hint } : {}),
      });
      return;
    }
    case "step.skipped": {
      const entry = step ?? add(e.step, e.at);
      lane.steps.set(e.step, entry);
      end(entry, { kind: "skipped", text: `${entry.label}: skipped (${e.reason})` });
      return;
    }
    case "log": {
      if (e.level === "debug") return;
      const entry = e.step ? step : lane.header;
      if (entry && e.level === "info") {
        if (!entry.end) entry.current = redact(e.message);
      } else if (entry) {
        entry.notes = [...entry.notes, redact(`${e.level}: ${e.message}`)].slice(-MAX_NOTES);
      } else {
        const note = add(e.step ? `${e.step}: ${e.message}` : e.message, e.at);
        note.note = e.level === "info" ? "info" : "warn";
        note.end = { kind: "succeeded", text: note.label };
      }
    }
  }
}

interface FrameOptions {
  now: number;
  columns: number;
  /** At most this many lines (the live frame: one taller than the terminal cannot be erased). */
  rows?: number;
  tick: number;
  final: boolean;
  oneLinePerLane?: boolean;
}

/**
 * The lines of a frame: each lane's header, then (unless one line per lane) its entries. When
 * they are more than `rows`, the oldest steps that ended well give way to one line counting
 * them; should that not do, the top lines go.
 */
export function frame(lanes: readonly Lane[], o: FrameOptions): string[] {
  const spin = SPINNER[o.tick % SPINNER.length]!;
  const blocks: { lines: string[]; fold: boolean }[] = [];
  for (const lane of lanes) {
    const entries = [...(lane.header ? [lane.header] : []), ...(o.oneLinePerLane ? [] : lane.entries)];
    for (const entry of entries) {
      const lines: string[] = [];
      const put = (icon: string, text: string, level: number) =>
        lines.push(...wrap(`${icon} ${text}`, o.columns, level * 2));
      const header = entry === lane.header ? lane : undefined;
      const live = !entry.end;
      put(iconOf(entry, live && o.final ? yellow("◼") : yellow(spin)), titleOf(entry, header, o.now), 0);
      if (!o.oneLinePerLane) {
        if (entry.end?.hint) lines.push(...wrap(dim(entry.end.hint), o.columns, 2, 2));
        for (const note of entry.notes) put("›", note, 1);
        if (live && entry.current) put("›", entry.current, 1);
      }
      const fold = !header && !!entry.end && entry.end.kind !== "failed" && entry.notes.length === 0;
      blocks.push({ lines, fold });
    }
  }
  const rows = o.rows ?? Number.POSITIVE_INFINITY;
  let total = blocks.reduce((n, b) => n + b.lines.length, 0);
  let folded = 0;
  let at = -1;
  for (let i = 0; i < blocks.length && total > rows; i++) {
    const b = blocks[i]!;
    if (!b.fold) continue;
    total -= b.lines.length - (folded === 0 ? 1 : 0);
    if (folded === 0) at = i;
    folded++;
    b.lines = [];
  }
  if (folded > 0) blocks[at]!.lines = [`${dim("…")} ${dim(`${folded} earlier step(s) done`)}`];
  const lines = blocks.flatMap((b) => b.lines);
  return lines.length > rows ? lines.slice(lines.length - Math.max(1, rows)) : lines;
}

function iconOf(entry: Entry, running: string): string {
  if (entry.note) return entry.note === "info" ? "›" : yellow("⚠");
  switch (entry.end?.kind) {
    case "succeeded":
      return entry.end.unchanged ? dim("=") : green("✔");
    case "failed":
      return red("✖");
    case "skipped":
      return yellow("↓");
    default:
      return running;
  }
}

function titleOf(entry: Entry, lane: Lane | undefined, now: number): string {
  if (entry.end) return entry.end.text;
  const elapsed = dim(`(${formatDuration(now - entry.since)})`);
  if (!lane?.header) return `${entry.label} ${elapsed}`;
  const p = lane.progress;
  const done = p?.stepsDone ?? lane.entries.filter((e) => e.end && !e.note).length;
  const parts = [`${done}/${p?.steps ?? lane.header.steps} steps done`];
  if (p) parts.unshift(`${p.phase} (${p.phases.indexOf(p.phase) + 1}/${p.phases.length})`);
  if (p?.remainingMs !== undefined) parts.push(timeLeft(p.remainingMs - (now - p.at)));
  return `${entry.label}: ${parts.join(" · ")} ${elapsed}`;
}

const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, "g");
const visible = (s: string) => [...s.replace(ANSI, "")].length;

/**
 * The text as lines of at most `columns` visible characters, broken at spaces (a word longer
 * than a line is broken where it must), each line after the first indented two more; escape
 * sequences are kept and not counted. Every line starts with `indent` spaces.
 */
export function wrap(text: string, columns: number, indent: number, hanging = indent + 2): string[] {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    let width = 0;
    let pad = indent;
    const flush = () => {
      out.push(`${" ".repeat(pad)}${line}`.trimEnd());
      line = "";
      width = 0;
      pad = hanging;
    };
    for (const word of paragraph.split(" ")) {
      const room = () => Math.max(10, columns - pad);
      const w = visible(word);
      if (width > 0 && width + 1 + w > room()) flush();
      if (width > 0) {
        line += " ";
        width++;
      }
      let rest = word;
      while (width + visible(rest) > room()) {
        const [head, tail] = splitAt(rest, room() - width);
        line += head;
        flush();
        rest = tail;
      }
      line += rest;
      width += visible(rest);
    }
    flush();
  }
  return out.filter((l) => l.trim() !== "");
}

/** The text cut after `n` visible characters (escape sequences stay whole). */
function splitAt(text: string, n: number): [string, string] {
  let count = 0;
  let i = 0;
  while (i < text.length && count < n) {
    ANSI.lastIndex = i;
    const m = text[i] === ESC ? new RegExp(ANSI.source, "y").exec(text.slice(i)) : null;
    if (m) i += m[0].length;
    else {
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
      count++;
    }
  }
  return [text.slice(0, i), text.slice(i)];
}
