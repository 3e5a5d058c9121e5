import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/runner.js";
import type { Step } from "../../src/engine/step.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { ttyRenderer } from "../../src/io/render-tty.js";
import { createTtyView } from "../../src/io/tty-view.js";
import { repoRoot } from "../helpers/apps.js";

/** A terminal as the renderer sees it: isTTY, a size, and everything written to it. */
class FakeTty extends Writable {
  readonly isTTY = true;
  columns = 100;
  rows = 40;
  private readonly chunks: string[] = [];

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }

  /** Everything written so far, escape sequences and all. */
  text(): string {
    return this.chunks.join("");
  }

  /** What a terminal would show (scrollback included), colours dropped. */
  screen(): string[] {
    return emulate(this.text());
  }
}

const CSI = new RegExp(`^${"\x1b"}\\[([0-9;?]*)([A-Za-z])`);

/** Enough of a terminal for the view: text, newlines, cursor up, erase line, column 0. */
function emulate(text: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = lines[row] ?? "";
    lines[row] = line.padEnd(col, " ").slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\x1b") {
      const m = CSI.exec(text.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const [, arg, cmd] = m;
      if (cmd === "A") row = Math.max(0, row - Number(arg || 1));
      else if (cmd === "K") lines[row] = "";
      else if (cmd === "G") col = 0;
      continue;
    }
    if (ch === "\r") col = 0;
    else if (ch === "\n") {
      row++;
      col = 0;
      lines[row] ??= "";
    } else put(ch);
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  return lines.map((l) => l.trimEnd());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (generously: the machine may be loaded) until the screen shows what `ok` wants. */
async function until(tty: FakeTty, ok: (screen: string[]) => boolean, ms = 10_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const screen = tty.screen();
    if (ok(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`screen never matched; it shows:\n${screen.join("\n")}`);
    await sleep(25);
  }
}

function events(now = Date.now()) {
  const at = now;
  return {
    started: { type: "run.started", at, runId: "r-1", command: "create", app: "hello", steps: 4 },
    network: { type: "step.started", at: at - 2_000, step: "find-network", description: "find the VPC" },
    networkDone: {
      type: "step.succeeded",
      at,
      step: "find-network",
      changed: false,
      summary: "vpc-1, 3 subnets",
      durationMs: 400,
    },
    role: { type: "step.started", at, step: "ensure-iam-role/cluster", description: "the cluster role" },
    roleDone: {
      type: "step.succeeded",
      at,
      step: "ensure-iam-role/cluster",
      changed: true,
      summary: "created kc-hello-blue-cluster",
      durationMs: 1_500,
    },
    cluster: {
      type: "step.started",
      at: now - 70_000,
      step: "ensure-eks-cluster/main",
      description: "the EKS cluster",
    },
    clusterWaiting: {
      type: "step.waiting",
      at,
      step: "ensure-eks-cluster/main",
      reason: "cluster kc-hello-blue to be ACTIVE",
      elapsedMs: 70_000,
    },
    clusterFailed: {
      type: "step.failed",
      at,
      step: "ensure-eks-cluster/main",
      error: {
        code: "AWS",
        message: "AccessDenied: not allowed to eks:CreateCluster",
        hint: "grant eks:CreateCluster",
        retryable: false,
      },
      durationMs: 90_000,
    },
    objectsSkipped: {
      type: "step.skipped",
      at,
      step: "ensure-kube-objects",
      reason: "ensure-eks-cluster/main did not succeed",
    },
    finished: {
      type: "run.finished",
      at,
      runId: "r-1",
      result: "failed",
      durationMs: 92_000,
      changed: ["ensure-iam-role/cluster"],
      failed: ["ensure-eks-cluster/main"],
    },
  } satisfies Record<string, KubecontrolEvent>;
}

describe("terminal view", () => {
  it("shows steps as they start: running ones side by side with elapsed time and what they wait for", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const e = events();
    view(e.started);
    view(e.network);
    view(e.networkDone);
    view(e.role);
    view(e.cluster);
    view(e.clusterWaiting);
    const live = await until(tty, (s) => s.some((l) => l.includes("still waiting for")));
    expect(live).toEqual([
      expect.stringMatching(/^. create hello: 1\/4 steps done \(\d+ms\)$/),
      "  › run r-1",
      "= find-network: vpc-1, 3 subnets (400ms)",
      expect.stringMatching(/^. ensure-iam-role\/cluster \(\d+ms\)$/),
      "  › the cluster role",
      expect.stringMatching(/^. ensure-eks-cluster\/main \(1m1\ds\)$/),
      "  › still waiting for cluster kc-hello-blue to be ACTIVE (1m10s)",
    ]);
    // Running steps tick on their own: the spinner moves without new events.
    const frame = tty.text().length;
    await until(tty, () => tty.text().length > frame);
    view.stop();
  });

  it("ends with each step's mark, summary, duration and failure, and nothing after stop()", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const e = events();
    view(e.started);
    view(e.network);
    view(e.role);
    view(e.cluster);
    await until(tty, (s) => s.some((l) => l.includes("ensure-eks-cluster/main")));
    view(e.networkDone);
    view(e.roleDone);
    view(e.clusterWaiting);
    view(e.clusterFailed);
    view(e.objectsSkipped);
    view(e.finished);
    // No waiting here: stop() draws the final frame from what the events said.
    view.stop();
    const written = tty.text().length;
    tty.write("error: a step failed\n");
    expect(tty.screen()).toEqual([
      "✖ create hello: failed in 1m32s",
      "= find-network: vpc-1, 3 subnets (400ms)",
      "✔ ensure-iam-role/cluster: created kc-hello-blue-cluster (1.5s)",
      "✖ ensure-eks-cluster/main: AccessDenied: not allowed to eks:CreateCluster (1m30s)",
      "  grant eks:CreateCluster",
      "↓ ensure-kube-objects: skipped (ensure-eks-cluster/main did not succeed)",
      "error: a step failed",
    ]);
    // Events after stop (work still winding down) and the spinner's timer draw nothing.
    view({ type: "log", at: Date.now(), level: "warn", step: "ensure-image", message: "late" });
    view({ type: "step.started", at: Date.now(), step: "late-step", description: "late" });
    await sleep(400);
    expect(tty.text().length).toBe(written + "error: a step failed\n".length);
  });

  it("marks steps still running at stop() as such, with their last output", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const e = events();
    view(e.cluster);
    view(e.clusterWaiting);
    await until(tty, (s) => s.some((l) => l.includes("still waiting")));
    view.stop();
    expect(tty.screen()).toEqual([
      expect.stringMatching(/^◼ ensure-eks-cluster\/main \(1m1\ds\)$/),
      "  › still waiting for cluster kc-hello-blue to be ACTIVE (1m10s)",
    ]);
  });

  it("redacts everything it shows", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9uPUdldENhbGxlcklkZW50aXR5";
    const url = "https://deploy:hunter2hunter2@registry.example.com/v2/";
    const at = Date.now();
    view({ type: "step.started", at, step: "a", description: `log in to ${url}` });
    view({ type: "step.started", at, step: "b", description: "b" });
    view({ type: "step.started", at, step: "c", description: "c" });
    view({ type: "step.waiting", at, step: "b", reason: `Authorization: Bearer ${token}`, elapsedMs: 10 });
    view({ type: "log", at, level: "warn", step: "c", message: `password="s3cretpassword"` });
    await until(tty, (s) => s.some((l) => l.includes("Authorization")));
    view({
      type: "step.failed",
      at,
      step: "a",
      error: { code: "AWS", message: `token ${token} was refused`, retryable: false },
      durationMs: 5,
    });
    view({ type: "step.succeeded", at, step: "b", changed: true, summary: `got ${token}`, durationMs: 5 });
    view.stop();
    const all = tty.text();
    for (const secret of ["aHR0cHM6Ly9zdHMu", "hunter2hunter2", "s3cretpassword"])
      expect(all).not.toContain(secret);
    expect(tty.screen()).toEqual([
      "✖ a: token k8s-aws-v1.[REDACTED] was refused (5ms)",
      "✔ b: got k8s-aws-v1.[REDACTED] (5ms)",
      expect.stringMatching(/^◼ c \(\d+ms\)$/),
      '  › warn: password="[REDACTED]"',
      "  › c",
    ]);
  });

  it("says the run's phase, steps done and time left, counting down between events", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const at = Date.now();
    const phases = ["prepare", "build", "verify", "switch", "drain", "remove"] as const;
    view({ type: "run.started", at, runId: "r-2", command: "update", app: "hello", steps: 43 });
    view({
      type: "run.progress",
      at,
      runId: "r-2",
      phase: "verify",
      phaseStarted: true,
      phases: [...phases],
      stepsDone: 24,
      steps: 43,
      elapsedMs: 130_000,
      remainingMs: 4 * 60_000 - 1_000,
      basedOnRuns: 5,
    });
    expect((await until(tty, (s) => s[0]!.includes("verify")))[0]).toMatch(
      /^. update hello: verify \(3\/6\) · 24\/43 steps done · about 4m left \(\d+ms\)$/,
    );
    // Past the estimate it says so rather than "0 left".
    view({
      type: "run.progress",
      at: at - 10 * 60_000,
      runId: "r-2",
      phase: "drain",
      phaseStarted: true,
      phases: [...phases],
      stepsDone: 30,
      steps: 43,
      elapsedMs: 0,
      remainingMs: 60_000,
      basedOnRuns: 5,
    });
    await until(tty, (s) =>
      /drain \(5\/6\) · 30\/43 steps done · taking longer than its past runs/.test(s[0]!),
    );
    view.stop();
  });

  it("keeps the run's line on a terminal too short for every step: the oldest done steps fold into one line", async () => {
    const tty = new FakeTty();
    tty.rows = 8;
    const view = ttyRenderer(tty);
    const at = Date.now();
    view({ type: "run.started", at, runId: "r-3", command: "update", app: "hello", steps: 20 });
    for (let i = 0; i < 10; i++) {
      view({ type: "step.started", at, step: `ensure-thing/${i}`, description: `thing ${i}` });
      view({
        type: "step.succeeded",
        at,
        step: `ensure-thing/${i}`,
        changed: true,
        summary: "made",
        durationMs: 5,
      });
    }
    view({ type: "step.started", at, step: "ensure-eks-cluster/main", description: "the EKS cluster" });
    const screen = await until(tty, (s) => s.some((l) => l.includes("earlier step")));
    expect(screen).toEqual([
      expect.stringMatching(/^. update hello: 10\/20 steps done \(\d+ms\)$/),
      "  › run r-3",
      "… 8 earlier step(s) done",
      "✔ ensure-thing/8: made (5ms)",
      "✔ ensure-thing/9: made (5ms)",
      expect.stringMatching(/^. ensure-eks-cluster\/main \(\d+ms\)$/),
      "  › the EKS cluster",
    ]);
    // The final frame goes to the scrollback whole.
    view.stop();
    expect(tty.screen().filter((l) => l.startsWith("✔ ensure-thing/"))).toHaveLength(10);
  });

  it("wraps long lines to the terminal's width, indented under their step", async () => {
    const tty = new FakeTty();
    tty.columns = 40;
    // (a line may fill the width exactly)
    const view = ttyRenderer(tty);
    const at = Date.now();
    view({ type: "step.started", at, step: "verify-checks", description: "check the app" });
    view({
      type: "step.failed",
      at,
      step: "verify-checks",
      error: {
        code: "VERIFY_FAILED",
        message: "GET https://hello.example.com/healthz answered 503 three times in a row",
        hint: "look at the pods' logs",
        retryable: false,
      },
      durationMs: 1_000,
    });
    view.stop();
    expect(tty.screen()).toEqual([
      "✖ verify-checks: GET",
      "  https://hello.example.com/healthz",
      "  answered 503 three times in a row (1s)",
      "  look at the pods' logs",
    ]);
  });

  it("draws one line per lane when asked (several apps at once)", async () => {
    const tty = new FakeTty();
    const view = createTtyView(tty, { oneLinePerLane: true });
    const at = Date.now();
    for (const app of ["api", "web"]) {
      view.emit({ type: "run.started", at, runId: `r-${app}`, command: "update", app, steps: 3 }, app);
      view.emit({ type: "step.started", at, step: "ensure-image", description: "build" }, app);
    }
    view.emit(
      {
        type: "run.finished",
        at,
        runId: "r-web",
        result: "failed",
        durationMs: 2_000,
        changed: [],
        failed: [],
      },
      "web",
    );
    const screen = await until(tty, (s) => s.length === 2);
    expect(screen).toEqual([
      expect.stringMatching(/^. update api: 0\/3 steps done \(\d+ms\)$/),
      "✖ update web: failed in 2s",
    ]);
    view.stop();
  });

  it("driven by the runner: a cancelled run's view ends before the error, whatever its steps still say", async () => {
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    const controller = new AbortController();
    let late: (() => void) | undefined;
    const steps: Step[] = [
      {
        name: "ensure-ecr-repository/app",
        description: "the ECR repository",
        check: async () => ({ satisfied: true as const, reason: "exists" }),
        summarize: () => "kc-hello",
      },
      {
        name: "ensure-eks-cluster/main",
        description: "the EKS cluster",
        check: async () => ({
          satisfied: false as const,
          reason: "cluster kc-hello-blue does not exist",
          needed: undefined,
        }),
        apply: async () => undefined,
        wait: async (ctx) => {
          ctx.waiting("cluster kc-hello-blue to be ACTIVE");
          // Work that ignores the abort a while, as an SDK call in flight does.
          await new Promise<void>((resolve) => {
            late = () => {
              ctx.log("info", "still polling");
              ctx.waiting("something else");
              resolve();
            };
          });
          return undefined;
        },
      },
    ];
    const run = runSteps(steps, { emit: view, signal: controller.signal, heartbeatMs: 50 });
    await until(tty, (s) => s.some((l) => l.includes("still waiting for cluster")));
    controller.abort(new Error("interrupted"));
    await run;
    view.stop();
    tty.write("error: interrupted\n");
    const written = tty.text().length;
    late?.();
    await sleep(300);
    expect(tty.text().length).toBe(written);
    expect(tty.screen()).toEqual([
      expect.stringMatching(/^= ensure-ecr-repository\/app: kc-hello \(\d+ms\)$/),
      expect.stringMatching(/^✖ ensure-eks-cluster\/main: cancelled \(\d+m?s\)$/),
      "error: interrupted",
    ]);
  });

  it("adds no signal handlers: Ctrl-C stays the command's", async () => {
    const before = ["SIGINT", "SIGTERM", "SIGHUP"].map((s) => process.listenerCount(s));
    const tty = new FakeTty();
    const view = ttyRenderer(tty);
    view(events().cluster);
    await until(tty, (s) => s.length > 0);
    expect(["SIGINT", "SIGTERM", "SIGHUP"].map((s) => process.listenerCount(s))).toEqual(before);
    view.stop();
  });
});

function hasScript(): boolean {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasScript())("terminal view on a real terminal (script's pty)", () => {
  it("Ctrl-C reaches the command's own handler, and its message comes after the view", async () => {
    // The fixture handles SIGINT as the CLI does (process.once, abort, then print the error).
    const { code, output } = await onTerminal(path.join(repoRoot, "test/io/fixtures/tty-interrupt.ts"));
    const screen = emulate(output.replaceAll("\r\n", "\n"));
    expect(screen.slice(-4), output).toEqual([
      "✖ create hello: cancelled in 1s",
      expect.stringMatching(/^✖ ensure-eks-cluster\/main: cancelled \(.+\)$/),
      "error: interrupted",
      "hint: run the same command again to continue",
    ]);
    expect(code).toBe(130);
  }, 60_000);

  it("what else is written while the view draws goes above it, and the final frame comes even without stop()", async () => {
    const fixture = path.join(repoRoot, "test/io/fixtures/tty-exit.ts");
    const { code, output } = await onTerminal(fixture);
    const screen = emulate(output.replaceAll("\r\n", "\n"));
    expect(screen.slice(-3), output).toEqual([
      "warning: written while the view draws",
      expect.stringMatching(/^◼ ensure-image \(\d+ms\)$/),
      "  › build the image",
    ]);
    expect(code).toBe(3);
  }, 60_000);
});

describe.skipIf(!hasScript())("progress on a real terminal (script's pty)", () => {
  it("shows the phase and, from the app's earlier run in the store, the time left", async () => {
    const { code, output } = await onTerminal(path.join(repoRoot, "test/io/fixtures/tty-progress.ts"));
    const plain = output.replace(new RegExp(`${"\x1b"}\\[[0-9;?]*[A-Za-z]`, "g"), "");
    // Frames drawn while it ran: the phase and a countdown from the first run's durations.
    expect(plain).toMatch(/update hello: build \(2\/4\) · 1\/4 steps done · less than a minute left/);
    expect(plain).toMatch(/update hello: verify \(3\/4\) · 2\/4 steps done · less than a minute left/);
    expect(plain).toMatch(/update hello: remove \(4\/4\) · 3\/4 steps done/);
    const screen = emulate(output.replaceAll("\r\n", "\n"));
    expect(screen.slice(-6), output).toEqual([
      expect.stringMatching(/^✔ update hello: succeeded in \d(\.\d)?s$/),
      expect.stringMatching(/^✔ find-network: done \(\d+ms\)$/),
      expect.stringMatching(/^✔ ensure-eks-cluster\/main: done \(\d+ms\)$/),
      expect.stringMatching(/^✔ verify-workloads: done \(\d+ms\)$/),
      expect.stringMatching(/^✔ delete-eks-cluster\/main: done \(\d+ms\)$/),
      "done",
    ]);
    expect(code).toBe(0);
  }, 60_000);
});

/** Runs a fixture on a terminal of its own (script's pty); its output and exit code. */
async function onTerminal(fixture: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    "script",
    ["-qfec", `${process.execPath} --import jiti/register ${fixture}`, "/dev/null"],
    {
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, output };
}
