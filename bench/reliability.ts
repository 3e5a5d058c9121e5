// The reliability harness, full form: `npm run reliability` (KUBECONTROL_RELIABILITY_SEED picks
// the seeds; KUBECONTROL_SKIP_POSTGRES=1 leaves PostgreSQL out). Against the test sandbox, it
//
//   1. kills create, update, rollout, teardown and destroy at every failpoint each reaches (and at
//      seeded random times), continuing by running the command again or by `resume`, and counts
//      what the AWS CLI finds afterwards;
//   2. releases twelve mixed commands together on one app, on SQLite and on PostgreSQL; then
//      takes over from a holder killed with -9 and from one paused (SIGSTOP) past its lease;
//   3. storms the AWS API (20% mixed faults, three seeds) under create, update and teardown, and
//      accounts for every fault; faults the SDK rightly does not retry are a row of their own.
//
// It prints three tables: points × outcomes, runs × winners, faults × outcomes
// (KUBECONTROL_RELIABILITY_ONLY=crash,contention,storm picks sections). A finding (a run
// that does not complete, a duplicate, a leak, two runs acting at once, a fault nobody dealt
// with) stops it with the evidence and exit 1.
import { readFileSync } from "node:fs";
import { e2eProject } from "../test/helpers/e2e-project.js";
import { spawnCli } from "../test/helpers/e2e-runs.js";
import { type PostgresServer, skipPostgres, startPostgres } from "../test/helpers/postgres.js";
import { ensureTestSandbox, testAccessKeyId } from "../test/helpers/sandbox.js";
import {
  accountFaults,
  addFaults,
  type CrashRow,
  callLog,
  clearFaults,
  counts,
  crashMatrix,
  history,
  overlapping,
  plansOf,
  releaseTogether,
  stormRules,
  table,
  unclosed,
} from "../test/reliability/harness.js";
import buildDist from "../test/setup/build.global.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const SEED = process.env.KUBECONTROL_RELIABILITY_SEED ?? "full";

function check(ok: boolean, what: string, evidence: unknown = ""): void {
  if (ok) return;
  process.stderr.write(
    `finding: ${what}\n${typeof evidence === "string" ? evidence : JSON.stringify(evidence, null, 2)}\n`,
  );
  process.exit(1);
}

const allAre = (c: Record<string, number>, n: number) => Object.values(c).every((v) => v === n);
const say = (text: string) => process.stderr.write(`${text}\n`);

/** 1. The crash matrix: every command, every point it reaches. */
async function crashes(): Promise<string> {
  const p = await e2eProject("rel-full");
  try {
    const plans = await plansOf(p);
    const rows: (CrashRow & { after: string })[] = [];
    const matrix = async (args: string[], after: () => Promise<string>) => {
      say(`crash matrix: ${args[0]}`);
      const row = await crashMatrix(p, args, {
        seed: SEED,
        randomKills: 3,
        randomWithinMs: 4_000,
        resume: true,
      });
      rows.push({ ...row, after: await after() });
    };
    const exactly = async (plan: "blue" | "green", scope: "colour" | "all", n: number, what: string) => {
      const c = await counts(p, plans[plan], scope);
      check(allAre(c, n), `${what}: expected ${n} of each`, c);
      return `${Object.keys(c).length} ${plan} ${scope === "all" ? "" : "colour "}resources × ${n}`;
    };
    await matrix(["create", p.app, "--yes"], () => exactly("blue", "all", 1, "after create"));
    const v2 = p.commitChange("v2");
    await matrix(["update", p.app, "--version", v2, "--drain", "0s", "--yes"], async () =>
      [
        await exactly("green", "all", 1, "after update"),
        await exactly("blue", "colour", 0, "after update"),
      ].join(", "),
    );
    const v3 = p.commitChange("v3");
    await matrix(["rollout", p.app, "--version", v3, "--yes"], () =>
      exactly("green", "all", 1, "after rollout"),
    );
    const kept = await p.kubecontrol([
      "update",
      p.app,
      "--version",
      p.commitChange("v4"),
      "--keep-old",
      "--yes",
    ]);
    check(kept.status === 0, "update --keep-old failed", kept.stderr);
    await matrix(["teardown", p.app, "--colour", "green", "--yes"], () =>
      exactly("green", "colour", 0, "after teardown"),
    );
    await matrix(["destroy", p.app, "--yes"], () => exactly("blue", "all", 0, "after destroy"));
    const runs = await history(p);
    check(unclosed(runs).length === 0, "history has runs left running", unclosed(runs));
    check(overlapping(runs) === undefined, "two runs overlap in history", overlapping(runs));
    const interrupted = runs.filter((r) => r.result === "interrupted").length;
    return [
      "points × outcomes (each point killed once with SIGKILL; re-run or resume; counted with the AWS CLI)",
      table(
        [
          "command",
          "points",
          "before-apply",
          "after-apply",
          "after-journal",
          "random kills",
          "resumes",
          "runs",
          "afterwards",
        ],
        rows.map((r) => [
          r.command,
          r.points.length,
          r.byPhase["before-apply"] ?? 0,
          r.byPhase["after-apply"] ?? 0,
          r.byPhase["after-journal"] ?? 0,
          r.randomKills,
          r.resumes,
          r.runs,
          r.after,
        ]),
      ),
      `history: ${runs.length} runs recorded, ${interrupted} interrupted (each closed by the run that took over), 0 left running, none at once`,
    ].join("\n");
  } finally {
    await p.cleanup();
  }
}

/** 2. Contention, on one store. */
async function contention(store: string, env: NodeJS.ProcessEnv): Promise<(string | number)[][]> {
  const p = await e2eProject("rel-lock");
  const rows: (string | number)[][] = [];
  try {
    const created = await p.kubecontrol(["create", p.app, "--yes"], { env });
    check(created.status === 0, "create before contention failed", created.stderr);
    // twelve mixed commands at once
    const v2 = p.commitChange("v2");
    const commands = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? ["rollout", p.app, "--version", v2, "--yes"]
        : i % 3 === 1
          ? ["update", p.app, "--version", v2, "--drain", "0s", "--yes"]
          : ["update", p.app, "--version", v2, "--keep-old", "--yes"],
    );
    const before = (await history(p, env)).length;
    const round = await releaseTogether(p, commands, env);
    const ran = round.filter((c) => c.status !== 4);
    const refused = round.filter((c) => c.status === 4);
    check(
      ran.length === 1 && ran[0]!.status === 0 && refused.every((c) => !c.acted),
      `${store}: not exactly one running, eleven refused without changing anything`,
      round.map((c) => [c.args[0], c.status, c.acted, c.run.stderr.slice(-300)]),
    );
    const recorded = (await history(p, env)).slice(before).map((r) => `${r.command} ${r.result}`);
    check(recorded.length === 1, `${store}: history has ${recorded.length} runs of the round`, recorded);
    rows.push([store, "12 released together", 12, `${ran[0]!.args[0]} (exit 0)`, refused.length, 0]);

    // with --wait-lock: they take turns
    const v3 = p.commitChange("v3");
    const waitingBefore = (await history(p, env)).length;
    const waiting = await releaseTogether(
      p,
      Array.from({ length: 6 }, () => ["rollout", p.app, "--version", v3, "--yes", "--wait-lock", "5m"]),
      env,
    );
    check(
      waiting.every((c) => c.status === 0),
      `${store}: a waiting run failed`,
      waiting.map((c) => c.run.stderr.slice(-400)),
    );
    const turns = (await history(p, env)).slice(waitingBefore).map((r) => r.result);
    check(turns.join(" ") === "succeeded no-op no-op no-op no-op no-op", `${store}: waiting runs`, turns);
    rows.push([store, "6 with --wait-lock", 6, "1 rollout, then 5 no-ops in turn", 0, 0]);

    // a holder killed with -9
    const v4 = p.commitChange("v4");
    const killed = await p.kubecontrol(["rollout", p.app, "--version", v4, "--yes"], {
      env: { ...env, KUBECONTROL_FAILPOINTS: "*:after-apply" },
    });
    check(killed.signal === "SIGKILL", `${store}: the holder was not killed`, killed.stderr);
    const t0 = Date.now();
    const next = await p.kubecontrol(["rollout", p.app, "--version", v4, "--yes"], { env });
    check(next.status === 0, `${store}: the run after a kill -9 failed`, next.stderr);
    rows.push([
      store,
      "holder killed -9",
      2,
      `next run, ${((next.finishedAt - t0) / 1000).toFixed(1)} s`,
      0,
      0,
    ]);

    // a holder paused past its lease
    const lease = { KUBECONTROL_LOCK_TIMEOUT: "24s", KUBECONTROL_REQUEST_TIMEOUT: "5s" };
    const v5 = p.commitChange("v5");
    const keyA = testAccessKeyId();
    const a = spawnCli(["rollout", p.app, "--version", v5, "--yes"], {
      cwd: p.root,
      env: {
        ...p.env,
        ...env,
        ...lease,
        KUBECONTROL_FAILPOINTS: "*:before-apply",
        KUBECONTROL_FAILPOINT_ACTION: "stop",
      },
      accessKeyId: keyA,
    });
    const t1 = Date.now();
    while (!readFileSync(`/proc/${a.pid}/stat`, "utf8").split(") ")[1]?.startsWith("T")) {
      check(Date.now() - t1 < 120_000, `${store}: the paused holder never stopped`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const v6 = p.commitChange("v6");
    const b = await p.kubecontrol(["rollout", p.app, "--version", v6, "--yes", "--wait-lock", "2m"], {
      env: { ...env, ...lease },
    });
    check(b.status === 0, `${store}: the run taking over from a paused holder failed`, b.stderr);
    process.kill(a.pid, "SIGCONT");
    const woke = await a.done;
    check(woke.status === 4, `${store}: the paused run did not exit 4 when it woke`, woke.stderr);
    rows.push([
      store,
      "holder paused past its lease",
      2,
      `the waiting run (${((b.finishedAt - t1) / 1000).toFixed(1)} s)`,
      1,
      0,
    ]);

    const runs = await history(p, env);
    check(overlapping(runs) === undefined, `${store}: two runs overlap`, overlapping(runs));
    check(unclosed(runs).length === 0, `${store}: runs left running`, unclosed(runs));
    return rows;
  } finally {
    await p.cleanup();
  }
}

/** 3. The storm: three seeds × create, update, teardown. */
async function storms(): Promise<string> {
  const outcomes = new Map<string, Record<string, number>>();
  const tally = (row: string, outcome: string) => {
    const r = outcomes.get(row) ?? {};
    r[outcome] = (r[outcome] ?? 0) + 1;
    outcomes.set(row, r);
  };
  const runs: (string | number)[][] = [];
  for (const seed of [1, 2, 3].map((n) => `${SEED}-${n}`)) {
    const p = await e2eProject("rel-storm");
    try {
      const plans = await plansOf(p);
      const stormy = async (args: string[]) => {
        const key = testAccessKeyId();
        await addFaults(p, stormRules(key, `${seed}-${args[0]}`));
        try {
          const r = await p.kubecontrol(args, { accessKeyId: key });
          check(r.status === 0, `storm ${seed}: ${args.join(" ")} failed`, r.stderr.slice(-3000));
          const faults = accountFaults(await callLog(p, key));
          for (const f of faults) tally(f.fault.fault ?? "?", f.outcome);
          const unaccounted = faults.filter((f) => f.outcome === "unaccounted");
          check(unaccounted.length === 0, `storm ${seed}: ${args[0]}: faults nobody dealt with`, unaccounted);
          runs.push([seed, args[0]!, faults.length, ((r.finishedAt - r.startedAt) / 1000).toFixed(1)]);
        } finally {
          await clearFaults(p, key);
        }
      };
      await stormy(["create", p.app, "--yes"]);
      check(allAre(await counts(p, plans.blue, "all"), 1), `storm ${seed}: not one of each after create`);
      await stormy(["update", p.app, "--version", p.commitChange("v2"), "--drain", "0s", "--yes"]);
      check(allAre(await counts(p, plans.green, "all"), 1), `storm ${seed}: not one of each after update`);
      check(allAre(await counts(p, plans.blue, "colour"), 0), `storm ${seed}: blue left after update`);
      await stormy(["teardown", p.app, "--colour", "green", "--force", "--yes"]);
      check(allAre(await counts(p, plans.green, "colour"), 0), `storm ${seed}: green left after teardown`);
    } finally {
      await p.cleanup();
    }
  }

  // faults the SDK rightly does not retry: the run fails, retryably, and a re-run completes
  const unretried: (string | number)[][] = [];
  for (const [what, rule] of [
    [
      "malformed body",
      { operation: "elasticloadbalancing:CreateTargetGroup", kind: "garbage", maxAttempt: 1 },
    ],
    [
      "answer later than the request timeout",
      { operation: "autoscaling:CreateAutoScalingGroup", kind: "timeout", delayMs: 20_000, maxAttempt: 3 },
    ],
  ] as const) {
    const p = await e2eProject("rel-unretried");
    try {
      const key = testAccessKeyId();
      await addFaults(p, [{ ...rule, accessKeyId: key }]);
      const first = await p.kubecontrol(["create", p.app, "--yes"], {
        accessKeyId: key,
        env: { KUBECONTROL_REQUEST_TIMEOUT: "5s" },
      });
      await clearFaults(p, key);
      const message = /^error: (.*)$/m.exec(first.stderr)?.[1] ?? first.stderr.trim().split("\n").pop() ?? "";
      const again = await p.kubecontrol(["create", p.app, "--yes"]);
      check(again.status === 0, `${what}: the re-run failed`, again.stderr);
      unretried.push([
        what,
        rule.operation,
        `exit ${first.status}`,
        message.slice(0, 90),
        "re-run completes",
      ]);
    } finally {
      await p.cleanup();
    }
  }

  return [
    "faults × outcomes (20% of each run's calls: throttling, 5xx, lost responses, resets, slow answers)",
    table(
      ["fault", "retried", "adopted after a lost create", "answered late", "unaccounted"],
      [...outcomes.entries()].map(([fault, o]) => [
        fault,
        o.retried ?? 0,
        o["adopted after a lost create"] ?? 0,
        o["answered late"] ?? 0,
        o.unaccounted ?? 0,
      ]),
    ),
    "",
    table(["seed", "command", "faults injected", "seconds"], runs),
    "",
    "faults not retried by the SDK (first run, then a re-run)",
    table(["fault", "operation", "first run", "its error", "then"], unretried),
  ].join("\n");
}

const only = new Set((process.env.KUBECONTROL_RELIABILITY_ONLY ?? "crash,contention,storm").split(","));
buildDist();
await ensureTestSandbox();
const started = Date.now();
const tables: string[] = [];
if (only.has("crash")) {
  tables.push(await crashes());
  say(tables.at(-1)!);
}
if (only.has("contention")) {
  const winners: (string | number)[][] = [];
  winners.push(...(await contention("sqlite", {})));
  if (!skipPostgres) {
    const pg: PostgresServer = await startPostgres();
    try {
      winners.push(
        ...(await contention("postgresql", { KUBECONTROL_HISTORY_STORE: await pg.createDatabase() })),
      );
    } finally {
      await pg.stop();
    }
  }
  tables.push(
    [
      "runs × winners",
      table(["store", "round", "processes", "acted", "refused (exit 4)", "acting at once"], winners),
    ].join("\n"),
  );
  say(tables.at(-1)!);
}
if (only.has("storm")) tables.push(await storms());
process.stdout.write(
  `${tables.join("\n\n")}\n\nseed ${SEED}; ${((Date.now() - started) / 60_000).toFixed(1)} min\n`,
);
