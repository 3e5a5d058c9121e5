import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { formatPath } from "../../src/spec/problems.js";
import { baseSpec } from "../helpers/apps.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { callCounts, type TestSandbox, testAccessKeyId, testSandbox } from "../helpers/sandbox.js";

// Bad input at scale: every hand-written malformed fixture, and generated ones (fast-check, a
// fixed seed: each mutates one field of a valid spec to a value that cannot be valid), given to
// `kubecontrol create` against the sandbox. Each is refused with exit 3 naming its file and the
// field, and none of them, together, sends the sandbox a single request.

const fixtures = path.resolve(import.meta.dirname, "../fixtures/invalid");

/** One field of a valid spec set to something invalid, and the field the error must name. */
interface Mutation {
  path: (string | number)[];
  value: unknown;
}

const at = (p: (string | number)[], value: fc.Arbitrary<unknown>) =>
  value.map((v): Mutation => ({ path: p, value: v }));

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  at(["name"], fc.stringMatching(/^[A-Z_][A-Za-z0-9_ ]{0,12}$/)),
  at(["owner"], fc.integer()),
  at(["region"], fc.stringMatching(/^[A-Z]{2,8}$/)),
  at(["hardware", "web", "min"], fc.integer({ min: -1000, max: -1 })),
  at(["hardware", "web", "max"], fc.double({ min: 1.1, max: 99.9, noInteger: true, noNaN: true })),
  at(["hardware", "web", "instanceTypes", 0], fc.stringMatching(/^[a-z]{1,6}$/)),
  at(["hardware", "web", "diskGiB"], fc.integer({ min: -50, max: 19 })),
  at(["components", "web", "replicas"], fc.integer({ min: -100, max: -1 })),
  at(
    ["components", "web", "containers", 0, "ports", 0, "containerPort"],
    fc.integer({ min: 65536, max: 9_999_999 }),
  ),
  at(["services", "web", "port"], fc.integer({ min: 65536, max: 9_999_999 })),
  at(["dns", "ttl"], fc.integer({ min: 86401, max: 9_999_999 })),
  at(["deploy", "schedule"], fc.stringMatching(/^[a-z]{1,8}$/)),
  at(["deploy", "keepOldColourFor"], fc.stringMatching(/^[0-9]{1,3}[qwxyz]$/)),
  at(["image", "context"], fc.stringMatching(/^(\.\.\/){1,4}[a-z]{1,6}$/)),
  fc
    .stringMatching(/^[a-z]{4,10}$/)
    .filter(
      (k) =>
        ![
          "apiVersion",
          "name",
          "owner",
          "description",
          "region",
          "cluster",
          "network",
          "hardware",
          "image",
          "components",
          "services",
          "dns",
          "deploy",
          "addons",
          "labels",
        ].includes(k),
    )
    .map((k): Mutation => ({ path: [k], value: 1 })),
);

function mutated(m: Mutation, name: string): Record<string, unknown> {
  const spec = structuredClone(
    baseSpec({
      name,
      dns: { zone: "example.com", record: `${name}.example.com`, ttl: 60 },
    }),
  ) as unknown as Record<string, unknown>;
  let node = spec as Record<string | number, unknown>;
  for (const key of m.path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[m.path.at(-1)!] = m.value;
  return spec;
}

interface Case {
  file: string;
  app: string;
  field: string;
}

let sbx: TestSandbox;
let apps: string;
const cases: Case[] = [];

beforeAll(async () => {
  sbx = await testSandbox();
  apps = path.join(mkdtempSync(path.join(tmpdir(), "kc-malformed-")), "apps");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(apps);
  // the hand-written fixtures, each under a name of its own
  for (const file of readdirSync(fixtures).filter((f) => f.endsWith(".ts"))) {
    const field =
      /^\/\/ expect-field: (.+)$/m.exec(readFileSync(path.join(fixtures, file), "utf8"))?.[1] ?? "(load)";
    const app = `f${file.slice(0, 2)}`;
    copyFileSync(path.join(fixtures, file), path.join(apps, `${app}.ts`));
    cases.push({ file: `${app}.ts`, app, field });
  }
  // and generated ones, the same every run
  fc.sample(mutations, { numRuns: 64, seed: 20261204 }).forEach((m, i) => {
    const app = `g${String(i).padStart(2, "0")}`;
    // An invalid name is the mutation itself; any other spec is named after its file.
    writeFileSync(
      path.join(apps, `${app}.ts`),
      `export default ${JSON.stringify(mutated(m, app), null, 2)};\n`,
    );
    cases.push({ file: `${app}.ts`, app, field: formatPath(m.path) });
  });
}, 60_000);

describe("bad input at scale", () => {
  it("refuses each of more than 100 malformed specs with exit 3, naming its file and field, and sends AWS nothing", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    const key = testAccessKeyId();
    const env = { ...process.env, ...sbx.env, NO_COLOR: "1" };
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const r = await spawnCli(["--apps", apps, "create", c.app, "--yes"], {
          cwd: path.dirname(apps),
          env,
          accessKeyId: key,
        }).done;
        const named = r.stderr.includes(c.file) && (c.field === "(load)" || r.stderr.includes(`${c.field}:`));
        if (r.status !== 3 || !named) failures.push(`${c.file} (${c.field}): exit ${r.status}\n${r.stderr}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(failures, failures.slice(0, 3).join("\n---\n")).toEqual([]);
    // and the sandbox's proxy saw no request from any of them
    expect((await callCounts(sbx, key)).total).toBe(0);
  }, 240_000);
});
