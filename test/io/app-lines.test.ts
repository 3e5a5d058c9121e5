import { describe, expect, it } from "vitest";
import { exitCodeOf, resultTable, wantsManyApps } from "../../src/cli/many-apps.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { appLinesView } from "../../src/io/render-app-lines.js";

// Several apps at once: one line per app on a terminal, the exit code of the whole command, and
// the table it ends with. The terminal here is a recording stream; the end-to-end test runs
// `update --all` against the sandbox.

/** A terminal that keeps what was written, and the screen it leaves (cursor moves applied). */
function terminal(columns = 100) {
  let written = "";
  return {
    columns,
    write(text: string) {
      written += text;
      return true;
    },
    get screen(): string[] {
      const lines: string[] = [];
      let row = 0;
      // Each frame: optional "go up N lines", then lines each cleared and ended by \n.
      for (const part of written.split(new RegExp(`(${ESC}\\[\\d+F|${ESC}\\[2K|\n)`))) {
        const up = new RegExp(`^${ESC}\\[(\\d+)F$`).exec(part);
        if (up) row -= Number(up[1]);
        else if (part === "\n") row++;
        else if (part === `${ESC}[2K`) lines[row] = "";
        else if (part) lines[row] = (lines[row] ?? "") + part;
      }
      return lines;
    },
  };
}

const at = 1_000_000;
const ESC = String.fromCharCode(27);

describe("the per-app view", () => {
  it("keeps one line per app, redrawn in place, each saying where its run is and how it ended", () => {
    const out = terminal();
    let now = at;
    const view = appLinesView(out, ["alpha", "beta-app"], () => now);
    const a = view.sink("alpha");
    const events: KubecontrolEvent[] = [
      { type: "run.started", at, runId: "run-1", command: "update", app: "alpha", steps: 30 },
      { type: "step.started", at, step: "ensure-image", description: "image of alpha" },
      { type: "step.succeeded", at, step: "ensure-image", changed: true, summary: "built", durationMs: 5 },
      { type: "step.waiting", at, step: "wait-for-nodes", reason: "1 of 2 nodes Ready", elapsedMs: 0 },
    ];
    for (const e of events) a(e);
    now = at + 65_000;
    view.stop();
    expect(out.screen).toEqual([
      "alpha     ▸ 1/30 steps  1m5s  wait-for-nodes: 1 of 2 nodes Ready",
      "beta-app  … waiting for a free slot",
    ]);
  });

  it("ends an app's line with its result, and cuts lines to the terminal's width", () => {
    const out = terminal(40);
    const now = at;
    const view = appLinesView(out, ["alpha", "beta"], () => now);
    view.sink("beta")({ type: "run.started", at, runId: "r", command: "update", steps: 3 });
    view.end("alpha", { ok: false, text: "failed: verification failed: GET /healthz answered 200" });
    view.end("beta", { ok: true, text: "succeeded" });
    view.stop();
    const [alpha, beta] = out.screen;
    expect(alpha).toMatch(/^alpha {2}✗ failed: verification failed: …$/);
    expect(alpha!.length).toBe(39);
    expect(beta).toBe("beta   ✓ succeeded (0ms)");
  });
});

describe("several apps in one command", () => {
  it("exits 0 when all succeed, with the failed apps' code when they share one, else 11", () => {
    expect(exitCodeOf([{ exitCode: 0 }, { exitCode: 0 }])).toBe(0);
    expect(exitCodeOf([{ exitCode: 0 }, { exitCode: 7 }, { exitCode: 0 }])).toBe(7);
    expect(exitCodeOf([{ exitCode: 7 }, { exitCode: 7 }])).toBe(7);
    expect(exitCodeOf([{ exitCode: 7 }, { exitCode: 4 }, { exitCode: 0 }])).toBe(11);
  });

  it("runs one app as ever, several with --all or more than one name; both or neither is a usage error", () => {
    expect(wantsManyApps(["hello"], false)).toBe(false);
    expect(wantsManyApps(["hello", "webapp"], false)).toBe(true);
    expect(wantsManyApps([], true)).toBe(true);
    expect(() => wantsManyApps([], false)).toThrow(/name the app \(or several\), or pass --all/);
    expect(() => wantsManyApps(["hello"], true)).toThrow(/not both/);
  });

  it("ends with a table app → result, and each failure's hint", () => {
    const text = resultTable([
      { app: "alpha", result: "succeeded", exitCode: 0, durationMs: 61_000, detail: "updated to abc" },
      {
        app: "beta",
        result: "failed",
        exitCode: 7,
        durationMs: 2_000,
        detail: "verification failed: x",
        error: { code: "VERIFY_FAILED", message: "verification failed: x", retryable: false, hint: "look" },
      },
    ]);
    expect(text.split("\n")).toEqual([
      "APP     RESULT      EXIT   TIME   DETAIL",
      "alpha   succeeded   0      1m1s   updated to abc",
      "beta    failed      7      2s     verification failed: x",
      "",
      "1 of 2 app(s) succeeded",
      "beta: hint: look",
    ]);
  });
});
