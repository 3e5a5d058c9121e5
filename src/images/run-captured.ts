import { spawn } from "node:child_process";

export interface CapturedRun {
  code: number | null;
  /** The last lines of stdout and stderr together, in the order they came. */
  tail: string;
}

const KEEP_BYTES = 64 * 1024;

/**
 * Runs a command without a shell, keeping only the end of its output (a build can print
 * megabytes). `redact` strings are blanked from what is kept, in case a tool echoes one.
 */
export function runCaptured(
  command: string,
  args: string[],
  o: { signal?: AbortSignal; redact?: string[]; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): Promise<CapturedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: o.env ?? process.env,
      ...(o.signal ? { signal: o.signal, killSignal: "SIGTERM" as const } : {}),
    });
    let kept = "";
    let partial = "";
    const take = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      kept = (kept + text).slice(-KEEP_BYTES);
      if (o.onLine) {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) o.onLine(redact(line, o.redact));
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    let aborted = false;
    let kill: NodeJS.Timeout | undefined;
    child.on("error", (err) => {
      if ((err as { name?: string }).name !== "AbortError") return reject(err);
      // Node has sent SIGTERM: wait until the child is gone (a push half-way must not go on
      // after the run stopped), and kill it outright if it does not go within 10s.
      aborted = true;
      kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      kill.unref();
    });
    child.on("close", (code) => {
      clearTimeout(kill);
      resolve({ code: aborted ? null : code, tail: redact(kept, o.redact) });
    });
  });
}

/** The last `n` non-empty lines of `text`. */
export function lastLines(text: string, n: number): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

function redact(text: string, secrets: string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s) out = out.split(s).join("[redacted]");
  return out;
}
