import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject, weightedRecords } from "../helpers/e2e-project.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// deploy.dnsSteps end to end: `kubecontrol update` as a real process moves the weighted record
// set in the spec's steps, waits out resolver caches and judges the new colour again between
// them (here through a verify hook the test can make fail), puts all of DNS back when a
// judgement fails, and goes on from the weights a killed run left. The weights are read back
// with the AWS CLI while the run is held (a failpoint stops it) just after each step.

let project: E2eProject;
let app: string;
let first: string;
let second: string;
/** Where the hook records each call, and the rule that makes it fail. */
let calls: string;
let rule: string;

/** TTL of the app's record: with resolverCache=ttl, the wait at each step. */
const TTL_S = 5;

interface Weights {
  blue: number | undefined;
  green: number | undefined;
}

async function weights(): Promise<Weights> {
  const sets = await weightedRecords(project.sbx, `${app}.example.com`);
  const of = (c: string) => sets.find((s) => s.SetIdentifier === `kc-${app}-${c}`)?.Weight;
  return { blue: of("blue"), green: of("green") };
}

/** Where the run is paused (SIGSTOP by a failpoint) for the weights to be read after `step`. */
const PAUSE_AFTER: Record<string, string> = {
  "shift-dns/10%": "verify-shift/10%:before-apply",
  "shift-dns/50%": "verify-shift/50%:before-apply",
  "switch-dns": "switch-dns:after-journal",
};

/** Resolves once the process is stopped (state T in /proc), so a SIGCONT cannot come first. */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("T")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} did not stop`);
}

/**
 * Runs the CLI, stopped (a failpoint's SIGSTOP) just after each of `steps`: the weights are read
 * with the AWS CLI while it is stopped, then it is continued, so the reading never races the next
 * change, however loaded the machine. Returns the run, the weights read per step, and when each
 * step's `done` line was printed.
 */
async function runWatching(args: string[], steps: string[]) {
  const read: Record<string, Weights> = {};
  const handled = new Set<string>();
  let pid = 0;
  const pauses: Promise<void>[] = [];
  const cli = spawnCli(args, {
    cwd: project.root,
    env: {
      ...project.env,
      KUBECONTROL_RESOLVER_CACHE: "ttl",
      KUBECONTROL_FAILPOINTS: steps.map((st) => PAUSE_AFTER[st]!).join(","),
      KUBECONTROL_FAILPOINT_ACTION: "stop",
    },
    accessKeyId: testAccessKeyId(),
    onStderr(text) {
      for (const step of steps) {
        if (handled.has(step) || !text.includes(`failpoint ${PAUSE_AFTER[step]}: stopping`)) continue;
        handled.add(step);
        pauses.push(
          (async () => {
            await stopped(pid);
            read[step] = await weights();
            process.kill(pid, "SIGCONT");
          })(),
        );
      }
    },
  });
  pid = cli.pid;
  const run = await cli.done;
  await Promise.all(pauses);
  const at: Record<string, number> = {};
  for (const step of steps) {
    const line = run.stderr.split("\n").find((l) => l.includes(` ${step}: done`));
    if (line) at[step] = Date.parse(line.split(" ")[0]!);
  }
  return { run, read, at };
}

/** The hook's calls so far: which colour and version it judged, and whether it passed. */
function hookCalls(): { colour: string; version: string; ok: boolean }[] {
  return existsSync(calls) ? (JSON.parse(readFileSync(calls, "utf8")) as never) : [];
}

beforeAll(async () => {
  project = await e2eProject("steps", (spec, name) =>
    spec
      .replace("ttl: 60", `ttl: ${TTL_S}`)
      .replace(
        "  dns: {",
        `  deploy: { dnsSteps: [10, 50, 100], verify: { hook: "./${name}.verify.ts", timeout: "30s" } },\n  dns: {`,
      ),
  );
  ({ app } = project);
  calls = path.join(project.root, "hook-calls.json");
  rule = path.join(project.root, "hook-fails.json");
  // The hook passes unless the rule file says: fail for this colour once it passed N times since.
  writeFileSync(
    path.join(project.root, "apps", `${app}.verify.ts`),
    `import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { VerifyContext } from "kubecontrol";
export default async function verify(c: VerifyContext): Promise<void> {
  const res = await c.fetch(\`\${c.baseUrl}/healthz\`, { signal: c.signal });
  if (res.status !== 200) throw new Error(\`/healthz answered \${res.status}\`);
  const log = existsSync(${JSON.stringify(calls)}) ? JSON.parse(readFileSync(${JSON.stringify(calls)}, "utf8")) : [];
  const rule = existsSync(${JSON.stringify(rule)}) ? JSON.parse(readFileSync(${JSON.stringify(rule)}, "utf8")) : undefined;
  const passed = log.filter((e) => e.ok && e.colour === rule?.colour && e.at >= rule?.since).length;
  const ok = !(rule && c.colour === rule.colour && passed >= rule.passes);
  log.push({ colour: c.colour, version: c.version, ok, at: Date.now() });
  writeFileSync(${JSON.stringify(calls)}, JSON.stringify(log));
  if (!ok) throw new Error(\`the test made the hook fail after \${rule.passes} passes\`);
}
`,
  );
  first = project.git("rev-parse", "HEAD");
  second = project.commitChange("second version");
  const created = await project.kubecontrol(["create", app, "--version", first, "--yes"]);
  if (created.status !== 0) throw new Error(`create failed: ${created.stderr}`);
}, 300_000);

afterAll(() => project?.cleanup(), 180_000);

describe("deploy.dnsSteps: progressive DNS", () => {
  it("moves the weight in the spec's steps, waiting out the TTL and judging the new colour at each", async () => {
    // given blue live at the first commit, and dnsSteps [10, 50, 100]
    const before = hookCalls().length;
    // when the app is updated to the second commit
    const { run, read, at } = await runWatching(
      ["update", app, "--version", second, "--yes"],
      ["shift-dns/10%", "shift-dns/50%", "switch-dns"],
    );

    // then it succeeds, green taking 10%, then 50%, then all of it; never both at 0
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/green is built at \w+, verified, and given DNS in steps \(10%, 50%, 100%/);
    expect(read["shift-dns/10%"]).toEqual({ green: 10, blue: 90 });
    expect(read["shift-dns/50%"]).toEqual({ green: 50, blue: 50 });
    expect(read["switch-dns"]).toEqual({ green: 100, blue: 0 });
    // and each share was held at least the record's TTL before the next
    expect(at["shift-dns/50%"]! - at["shift-dns/10%"]!).toBeGreaterThanOrEqual(TTL_S * 1000);
    expect(at["switch-dns"]! - at["shift-dns/50%"]!).toBeGreaterThanOrEqual(TTL_S * 1000);
    expect(run.stderr).toMatch(/verify-shift\/10%: done: green passed at 10%/);
    expect(run.stderr).toMatch(/verify-shift\/50%: done: green passed at 50%/);
    // and the hook judged green three times: before any traffic, at 10% and at 50%
    const green = hookCalls()
      .slice(before)
      .filter((c) => c.colour === "green");
    expect(green).toHaveLength(3);
    expect(green.every((c) => c.ok && c.version === second)).toBe(true);
    // and blue is gone
    expect(await weights()).toEqual({ green: 100, blue: undefined });
  }, 420_000);

  it("puts all of DNS back on the old colour in one change when a judgement fails part-way: exit 7", async () => {
    // given a hook that passes blue twice more (verification, the judgement at 10%), then fails
    writeFileSync(rule, JSON.stringify({ colour: "blue", passes: 2, since: Date.now() }));
    // when green (live) is updated to the first commit, on blue
    const { run, read } = await runWatching(
      ["update", app, "--version", first, "--yes"],
      ["shift-dns/10%", "shift-dns/50%"],
    );

    // then blue took 10% and 50%, failed its judgement at 50%, and green has all of DNS again
    expect(run.status, run.stderr).toBe(7);
    expect(read["shift-dns/10%"]).toEqual({ blue: 10, green: 90 });
    expect(read["shift-dns/50%"]).toEqual({ blue: 50, green: 50 });
    expect(run.stderr).toMatch(
      /error: blue failed its judgement at 50% of the traffic, so all of DNS is back on green: verification failed: hook .*the test made the hook fail after 2 passes/,
    );
    expect(run.stderr).toMatch(/hint: all of DNS is back on green; .*kubecontrol teardown \S+ --colour blue/);
    expect(run.stderr).not.toMatch(/switch-dns: done/);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    // and history records the failed verification
    const history = JSON.parse((await project.kubecontrol(["history", app, "-o", "json"])).stdout) as {
      runs: { result: string; error: string }[];
    };
    expect(history.runs[0]).toMatchObject({ result: "failed" });
    expect(history.runs[0]?.error).toMatch(/^VERIFY_FAILED: blue failed its judgement at 50%/);
  }, 420_000);

  it("killed part-way, leaves the weights split, and resume goes on from them", async () => {
    rmSync(rule, { force: true });
    // given the same update, killed just after its 50% change was submitted
    const killed = await project.kubecontrol(["update", app, "--version", first, "--yes"], {
      env: { KUBECONTROL_FAILPOINTS: "shift-dns/50%:after-apply" },
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(killed.stderr).toMatch(/failpoint shift-dns\/50%:after-apply/);
    // then DNS is split evenly: neither colour at 0
    expect(await weights()).toEqual({ blue: 50, green: 50 });

    // when the run is resumed
    // (with the drain it recorded, 0s: green's record goes as soon as blue has all the weight)
    const run = await project.kubecontrol(["resume", app, "--yes"]);

    // then it went on from 50%: the earlier shares are past, 50% is judged again, then all of it
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/shift-dns\/10%: no change/);
    expect(run.stderr).toMatch(/shift-dns\/50%: no change/);
    expect(run.stderr).toMatch(/verify-shift\/50%: done: blue passed at 50%/);
    expect(run.stderr).toMatch(/switch-dns: done: kc-\S+-blue at weight 100, kc-\S+-green at 0/);
    expect(await weights()).toEqual({ blue: 100, green: undefined });
  }, 420_000);
});
