/**
 * The live view of a run on a terminal, drawn by listr2's default renderer from the event
 * stream. Loaded only through render-tty.ts, and only when a terminal shows progress.
 *
 * Each step is a listr2 task from its step.started on, whose promise settles when its end
 * event arrives; steps show in the order they start, running ones side by side with their
 * elapsed time and, as their output, what they do or wait for. Steps arrive while the list
 * runs, which listr2 cannot add to a running list: each batch of new steps is a sub-list of an
 * untitled task (listr2 draws those at the same level), whose last entry waits for the next
 * batch.
 *
 * Two things of the stock renderer are replaced, both for Ctrl-C:
 * - frames are written by our own writer instead of log-update, whose cursor hiding loads
 *   signal-exit; signal-exit kills the process on a SIGINT that only a `once` handler (the
 *   CLI's interrupt) also listened to, so the run would die unrecorded, its message unprinted;
 * - `stop()` is synchronous: it gives every task its known end, prints the final frame, and
 *   closes the gate to the terminal, so nothing of the view comes after the caller's next line.
 *
 * While the view draws, listr2 holds back whatever else is written to its stream (a warning
 * would tear the frame) and prints it after the final frame.
 */
import {
  color,
  DefaultRenderer,
  figures,
  Listr,
  type ListrDefaultRendererOptions,
  type ListrDefaultRendererTask,
  type ListrEventManager,
  ListrLogger,
  type ListrTask,
  type ListrTaskObject,
  ListrTaskState,
  type ListrTaskWrapper,
  ProcessOutput,
  Spinner,
} from "listr2";
import type { KubecontrolEvent } from "./events.js";
import { formatDuration } from "./format.js";
import { redact } from "./redact.js";

/** The view of one run. */
export interface TtyView {
  emit(event: KubecontrolEvent): void;
  /** True once the first frame can be drawn (listr2's renderer has loaded). */
  readonly live: boolean;
  /** Resolves when the view is live, or will never be. */
  readonly ready: Promise<void>;
  /** Ends the view now: the final frame if it was live, then nothing more. */
  stop(): void;
}

/** What a terminal stream offers the view. */
export type TtyStream = Pick<NodeJS.WriteStream, "write"> & { columns?: number; rows?: number };

type Wrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof DefaultRenderer>;
type TaskObject = ListrTaskObject<unknown, typeof DefaultRenderer, typeof DefaultRenderer>;

type End =
  | { kind: "succeeded"; text: string; unchanged: boolean }
  | { kind: "failed"; text: string }
  | { kind: "skipped"; text: string };

interface Entry {
  /** The step's name, or the run's header, or a note. */
  kind: "step" | "run" | "note";
  label: string;
  since: number;
  /** What the step does or waits for now (shown while it runs). */
  current: string;
  /** Warnings and errors logged by the step (shown until the end). */
  notes: string[];
  end?: End;
  mark?: string;
  task?: TaskObject;
  settle?: () => void;
  /** Still running when the view stopped (a dry run's step that would change, say). */
  cut?: boolean;
  /** For the run's header: how many steps the run has. */
  total?: number;
}

const MAX_NOTES = 5;
const INDENT = 2;
const ESC = "\x1b";
const CURSOR_HIDE = `${ESC}[?25l`;

export function createTtyView(out: TtyStream): TtyView {
  return new View(out);
}

class View implements TtyView {
  private readonly entries: Entry[] = [];
  private readonly steps = new Map<string, Entry>();
  private readonly byTask = new Map<string, Entry>();
  private readonly byDefinition = new Map<ListrTask<unknown, typeof DefaultRenderer>, Entry>();
  private header: Entry | undefined;
  private queue: ListrTask<unknown, typeof DefaultRenderer>[] = [];
  private wake: (() => void) | undefined;
  private renderer: ViewRendererLike | undefined;
  private started = false;
  private stopped = false;
  private open = true;
  private readonly rawWrite: (chunk: string) => boolean;
  private resolveReady!: () => void;
  readonly ready = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });

  constructor(private readonly out: TtyStream) {
    // Bound now: while the view is live, listr2 holds other writes to the stream back.
    this.rawWrite = out.write.bind(out) as (chunk: string) => boolean;
  }

  get live(): boolean {
    return this.renderer?.live === true;
  }

  emit(e: KubecontrolEvent): void {
    if (this.stopped) return;
    if (!this.started) this.start();
    switch (e.type) {
      case "run.started": {
        const entry = this.add("run", `${e.command}${e.app ? ` ${e.app}` : ""}`, e.at);
        entry.total = e.steps;
        this.setCurrent(entry, `run ${e.runId}`);
        this.header = entry;
        return;
      }
      case "run.finished": {
        const h = this.header;
        if (!h) return;
        const text = `${h.label}: ${e.result} ${dim(`in ${formatDuration(e.durationMs)}`)}`;
        this.finish(
          h,
          e.result === "failed" || e.result === "cancelled"
            ? { kind: "failed", text }
            : { kind: "succeeded", text, unchanged: false },
        );
        return;
      }
      case "step.started":
        if (!this.steps.has(e.step)) {
          const entry = this.add("step", e.step, e.at);
          this.setCurrent(entry, e.description);
          this.steps.set(e.step, entry);
        }
        return;
      case "step.checked":
        if (!e.satisfied) this.current(e.step, `needed: ${e.reason}`);
        return;
      case "step.waiting":
        this.current(e.step, `still waiting for ${e.reason} (${formatDuration(e.elapsedMs)})`);
        return;
      case "step.retrying":
        this.current(
          e.step,
          `attempt ${e.attempt} failed (${e.reason}); retrying in ${formatDuration(e.delayMs)}`,
        );
        return;
      case "step.succeeded": {
        const entry = this.steps.get(e.step);
        if (entry)
          this.finish(entry, {
            kind: "succeeded",
            text: `${entry.label}: ${e.summary} ${dim(`(${formatDuration(e.durationMs)})`)}`,
            unchanged: !e.changed,
          });
        return;
      }
      case "step.failed": {
        const entry = this.steps.get(e.step);
        if (!entry) return;
        const what = e.error.code === "CANCELLED" ? "cancelled" : e.error.message;
        const hint = e.error.hint && e.error.code !== "CANCELLED" ? `\n${dim(e.error.hint)}` : "";
        this.finish(entry, {
          kind: "failed",
          text: `${entry.label}: ${what} ${dim(`(${formatDuration(e.durationMs)})`)}${hint}`,
        });
        return;
      }
      case "step.skipped": {
        const entry = this.steps.get(e.step) ?? this.add("step", e.step, e.at);
        this.steps.set(e.step, entry);
        this.finish(entry, { kind: "skipped", text: `${entry.label}: skipped (${e.reason})` });
        return;
      }
      case "log": {
        if (e.level === "debug") return;
        const entry = e.step ? this.steps.get(e.step) : this.header;
        const message = e.step && !entry ? `${e.step}: ${e.message}` : e.message;
        if (entry && !entry.end && e.level === "info") {
          this.setCurrent(entry, message);
        } else if (entry && e.level !== "info") {
          entry.notes = [...entry.notes, `${e.level}: ${redact(message)}`].slice(-MAX_NOTES);
          this.refresh(entry);
        } else if (!entry) {
          const note = this.add("note", message, e.at);
          note.mark = e.level === "info" ? figures.pointerSmall : color.yellow(figures.warning);
          this.finish(note, { kind: "succeeded", text: note.label, unchanged: false });
        }
        return;
      }
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off("exit", this.atExit);
    this.wake?.();
    if (this.renderer?.live) for (const entry of this.entries) this.settleNow(entry);
    this.renderer?.end();
    this.open = false;
    this.resolveReady();
  }

  // --- the model -------------------------------------------------------------------------

  private add(kind: Entry["kind"], label: string, at: number): Entry {
    const entry: Entry = { kind, label: redact(label), since: at, current: "", notes: [] };
    this.entries.push(entry);
    const definition = this.taskOf(entry);
    this.byDefinition.set(definition, entry);
    this.enqueue(definition);
    return entry;
  }

  private current(step: string, text: string): void {
    const entry = this.steps.get(step);
    if (entry && !entry.end) this.setCurrent(entry, text);
  }

  private setCurrent(entry: Entry, text: string): void {
    entry.current = redact(text);
    this.refresh(entry);
  }

  private finish(entry: Entry, end: End): void {
    if (entry.end) return;
    entry.end = { ...end, text: redact(end.text) } as End;
    if (entry.kind === "step" && this.header) this.refresh(this.header);
    entry.settle?.();
  }

  /** The listr2 task of an entry: its promise settles when the entry's end is known. */
  private taskOf(entry: Entry): ListrTask<unknown, typeof DefaultRenderer> {
    return {
      title: entry.label,
      rendererOptions: { outputBar: true, persistentOutput: true },
      task: (_ctx, wrapper: Wrapper) => {
        this.place(entry, wrapper.task);
        this.refresh(entry);
        return new Promise<void>((resolve, reject) => {
          entry.settle = () => {
            const end = entry.end;
            if (!end) return;
            entry.settle = undefined;
            wrapper.output = this.outputOf(entry);
            if (end.kind === "failed") reject(new Error(end.text));
            else if (end.kind === "skipped") {
              wrapper.skip(end.text);
              resolve();
            } else {
              wrapper.title = end.text;
              resolve();
            }
          };
          entry.settle();
        });
      },
    };
  }

  private place(entry: Entry, task: TaskObject): void {
    entry.task = task;
    this.byTask.set(task.id, entry);
  }

  private refresh(entry: Entry): void {
    const task = entry.task;
    if (!task || this.stopped || !task.isPending()) return;
    task.output$ = this.outputOf(entry);
  }

  private outputOf(entry: Entry): string {
    const lines = [...entry.notes];
    if (!entry.end && entry.current) lines.push(entry.current);
    return lines.join("\n");
  }

  /** The title of an entry in the frame being drawn: running ones with their elapsed time. */
  titleOf(entry: Entry, now = Date.now()): string {
    if (entry.end) return entry.end.text;
    if (entry.kind === "run") {
      const done = this.entries.filter((e) => e.kind === "step" && e.end).length;
      return `${entry.label}: ${done}/${entry.total ?? "?"} steps done ${dim(`(${formatDuration(now - entry.since)})`)}`;
    }
    return `${entry.label} ${dim(`(${formatDuration(now - entry.since)})`)}`;
  }

  /** Before each frame: running tasks' titles carry their elapsed time. */
  beforeFrame(): void {
    const now = Date.now();
    for (const entry of this.entries) {
      if (entry.task?.isPending() && !entry.end) entry.task.title = this.titleOf(entry, now);
    }
  }

  /** The icon of an entry where the stock one would not say it (unchanged, a note, cut short). */
  markOf(task: ListrDefaultRendererTask): string | undefined {
    const entry = this.byTask.get(task.id);
    if (!entry) return undefined;
    if (entry.mark && task.isCompleted()) return entry.mark;
    if (entry.end?.kind === "succeeded" && entry.end.unchanged && task.isCompleted()) return dim("=");
    if (entry.cut) return color.yellow(figures.squareSmallFilled);
    return undefined;
  }

  /** Entries listr2 does not draw yet (their batch had not started when the view stopped). */
  unplaced(): Entry[] {
    return this.entries.filter((e) => !e.task?.isEnabled());
  }

  iconOf(entry: Entry): string {
    if (entry.mark) return entry.mark;
    switch (entry.end?.kind) {
      case "succeeded":
        return entry.end.unchanged ? dim("=") : color.green(figures.tick);
      case "failed":
        return color.red(figures.cross);
      case "skipped":
        return color.yellow(figures.arrowDown);
      default:
        return color.yellow(figures.squareSmallFilled);
    }
  }

  outputLines(entry: Entry): string[] {
    return this.outputOf(entry)
      .split("\n")
      .filter((l) => l.trim() !== "");
  }

  /**
   * At stop, synchronously: a task whose end is known gets it now (listr2 would a few ticks
   * later), one still running is marked as cut short. As listr2 does on its own interrupt.
   */
  private settleNow(entry: Entry): void {
    const task = entry.task;
    if (!task?.isEnabled()) {
      if (!entry.end) entry.cut = true;
      return;
    }
    if (task.hasFinalized()) return;
    const end = entry.end;
    if (!end) {
      entry.cut = true;
      task.title = this.titleOf(entry);
      return;
    }
    task.output$ = this.outputOf(entry);
    if (end.kind === "failed") {
      task.message$ = { error: end.text };
      task.state$ = ListrTaskState.FAILED;
    } else if (end.kind === "skipped") {
      task.message$ = { skip: end.text };
      task.state$ = ListrTaskState.SKIPPED;
    } else {
      task.title$ = end.text;
      task.state$ = ListrTaskState.COMPLETED;
    }
  }

  // --- listr2 -----------------------------------------------------------------------------

  private enqueue(task: ListrTask<unknown, typeof DefaultRenderer>): void {
    this.queue.push(task);
    this.wake?.();
  }

  /** An untitled task that waits for the next batch of new entries and runs them with itself after. */
  private batch(): ListrTask<unknown, typeof DefaultRenderer> {
    return {
      task: async (_ctx, wrapper: Wrapper) => {
        if (this.queue.length === 0 && !this.stopped)
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        this.wake = undefined;
        if (this.stopped) return;
        const definitions = this.queue.splice(0);
        const list = wrapper.newListr([...definitions, this.batch()], {
          concurrent: true,
          exitOnError: false,
        });
        for (const task of list.tasks) {
          const entry = this.byDefinition.get(task.task);
          if (entry) this.place(entry, task as TaskObject);
        }
        return list;
      },
    };
  }

  private start(): void {
    this.started = true;
    const view = this;
    const write = (chunk: string) => (this.open ? this.rawWrite(chunk) : true);
    // listr2 writes the frames, and at the end whatever else was written to the terminal
    // meanwhile, through this; the cursor stays visible, as nothing restores it on a kill.
    const screen = {
      isTTY: true,
      get columns() {
        return view.out.columns;
      },
      get rows() {
        return view.out.rows;
      },
      write: (chunk: string) => write(String(chunk).replaceAll(CURSOR_HIDE, "")),
    };
    const frames = frameWriter(write, () => ({ columns: this.width(), rows: this.height() }));
    const logger = new ListrLogger({
      useIcons: true,
      processOutput: new ProcessOutput(screen as never, this.out as never, { leaveEmptyLine: false }),
    });
    const Renderer = viewRenderer(this, frames, (r) => {
      this.renderer = r;
    });
    const rendererOptions: ListrDefaultRendererOptions = {
      logger,
      spinner: new QuietSpinner(),
      collapseSubtasks: false,
      collapseErrors: true,
      showErrorMessage: true,
      collapseSkips: true,
      showSkipMessage: true,
      formatOutput: "wrap",
      indentation: INDENT,
    };
    const listr = new Listr<unknown, typeof DefaultRenderer, typeof DefaultRenderer>([this.batch()], {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      renderer: Renderer as never,
      rendererOptions,
      fallbackRendererCondition: false,
      silentRendererCondition: false,
    });
    listr.run().catch(() => {
      // A renderer's failure must not fail the run; the view simply stops drawing.
    });
  }

  /** The terminal's width; some report none (0), where 80 it is. */
  width(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
  }

  /** The terminal's height, likewise. */
  height(): number {
    return this.out.rows && this.out.rows > 0 ? this.out.rows : 24;
  }

  rendererLive(): void {
    // A command that never stops the view still gets what the view held back.
    process.once("exit", this.atExit);
    this.resolveReady();
  }

  private readonly atExit = () => this.stop();
}

type WrapAnsi = (text: string, columns: number, options: { hard: boolean; trim: boolean }) => string;

interface ViewRendererLike {
  readonly live: boolean;
  end(): void;
}

/** listr2's default renderer, drawing through our frame writer and decorating with the view's model. */
function viewRenderer(view: View, frames: FrameWriter, created: (r: ViewRendererLike) => void) {
  return class ViewRenderer extends DefaultRenderer {
    // Whether the terminal is one is decided by the caller (stderr), not by stdout.
    static override nonTTY = true;
    live = false;
    private ended = false;
    private readonly own: ListrDefaultRendererOptions;

    constructor(
      tasks: ListrDefaultRendererTask[],
      options: ListrDefaultRendererOptions,
      events: ListrEventManager,
    ) {
      super(tasks, options, events);
      this.own = options;
      created(this);
    }

    override async render(): Promise<void> {
      await super.render();
      // log-update's updater hides the cursor through cli-cursor, which loads signal-exit
      // (see the module's comment): frames go through our writer instead.
      (this as unknown as { updater: FrameWriter }).updater = frames;
      this.live = true;
      if (this.ended) {
        // Stopped while loading: end without a frame.
        this.own.spinner?.stop();
        this.own.logger?.process.release();
        return;
      }
      view.rendererLive();
    }

    override update(): void {
      if (this.live && !this.ended) super.update();
    }

    override end(): void {
      if (this.ended) return;
      this.ended = true;
      if (this.live) super.end();
    }

    override create(options?: { tasks?: boolean; bottomBar?: boolean; prompt?: boolean }): string {
      view.beforeFrame();
      const frame = super.create(options);
      if (!this.ended) return frame;
      // The final frame also lists what started too late for listr2 to place.
      const extra = view
        .unplaced()
        .flatMap((e) => [
          ...this.format(view.titleOf(e), view.iconOf(e), 0),
          ...view.outputLines(e).flatMap((l) => this.format(l, figures.pointerSmall, 1)),
        ]);
      return [frame, ...extra].filter((l) => l !== "").join("\n");
    }

    /**
     * As the stock one, but as wide as the terminal the view draws on (the stock one measures
     * stdout, which may be a pipe or, under some terminals, report no width at all).
     */
    protected override format(message: string, icon: string, level: number): string[] {
      if (message.trim() === "") return [];
      const indent = (n: number) => " ".repeat(n * INDENT);
      const width = view.width() - level * INDENT - 2;
      const wrap = (this as unknown as { wrap: WrapAnsi }).wrap;
      return wrap(icon ? `${icon} ${message}` : message, width, { hard: true, trim: false })
        .split("\n")
        .map((line, i) => (i > 0 ? `${indent(1)}${line.trimEnd()}` : line.trimEnd()))
        .filter((line) => line !== "")
        .map((line) => `${indent(level)}${line}`);
    }

    protected override style(task: ListrDefaultRendererTask, output = false): string {
      if (!output) {
        const mark = view.markOf(task);
        if (mark) return mark;
      }
      return super.style(task, output);
    }
  };
}

/** A spinner that never keeps the process alive. */
class QuietSpinner extends Spinner {
  private timer: NodeJS.Timeout | undefined;

  override start(cb?: () => void, interval = 100): void {
    this.timer = setInterval(() => {
      this.spin();
      cb?.();
    }, interval);
    this.timer.unref();
  }

  override stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  override isRunning(): boolean {
    return this.timer !== undefined;
  }
}

type FrameWriter = ((text: string) => void) & { clear(): void; done(): void };

/**
 * Draws a frame over the previous one (what log-update does): the frame cut to the terminal's
 * width and its last rows, the previous frame's lines erased first.
 */
function frameWriter(write: (chunk: string) => unknown, size: () => { columns: number; rows: number }) {
  let drawn = 0;
  let last: string | undefined;
  const erase = () => (drawn > 0 ? `${`${ESC}[1A${ESC}[2K`.repeat(drawn)}${ESC}[G` : "");
  const update = ((text: string) => {
    const { columns, rows } = size();
    let lines = text === "" ? [] : text.split("\n").map((l) => fitWidth(l, columns));
    if (lines.length > rows - 1) lines = lines.slice(lines.length - Math.max(1, rows - 1));
    const frame = lines.join("\n");
    if (frame === last) return;
    write(`${erase()}${lines.length > 0 ? `${frame}\n` : ""}`);
    drawn = lines.length;
    last = frame;
  }) as FrameWriter;
  update.clear = () => {
    write(erase());
    drawn = 0;
    last = undefined;
  };
  update.done = () => {
    drawn = 0;
    last = undefined;
  };
  return update;
}

const SEQUENCE = `${ESC}\\[[0-9;?]*[A-Za-z]`;
const ANSI = new RegExp(SEQUENCE, "g");

/** The line cut to `columns` visible characters (escape sequences kept, not counted). */
function fitWidth(line: string, columns: number): string {
  const plain = line.replace(ANSI, "");
  if ([...plain].length <= columns) return line;
  let visible = 0;
  let out = "";
  for (const part of line.split(new RegExp(`(${SEQUENCE})`))) {
    if (part.startsWith(ESC)) {
      out += part;
      continue;
    }
    for (const ch of part) {
      if (visible === columns - 1) return `${out}…${ESC}[0m`;
      out += ch;
      visible++;
    }
  }
  return out;
}

function dim(text: string): string {
  return color.dim(text);
}
