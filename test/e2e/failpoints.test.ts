import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAws } from "../../src/aws/create-aws.js";
import { armFailpoints } from "../../src/engine/failpoints.js";
import { type CreateInput, createApp } from "../../src/engine/workflows/create.js";
import { KubecontrolError } from "../../src/errors.js";
import { openSqliteStore } from "../../src/history/sqlite-store.js";
import type { HistoryStore } from "../../src/history/types.js";
import { caBundlesFromEnv, chooseBuilder } from "../../src/images/choose-builder.js";
import { EcrImages } from "../../src/images/ecr-images.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { planApp } from "../../src/plan/plan.js";
import { loadApp } from "../../src/spec/loader.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { inventory } from "../aws/inventory.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// The failpoint matrix of `create`, in-process: every failpoint a create reaches (each step's
// before-apply, after-apply and after-journal) is a simulated kill, one after the other, each
// followed by a re-run that must carry on from there. A kill here is: the run's store frozen
// (a dead process writes nothing more), its signal aborted, the step's flow thrown out of; the
// lease it held names a process id that no longer exists, as a killed CLI's would. Steps run
// one at a time so that the order of the points, and so the matrix, is the same in every run.

let sbx: TestSandbox;
let project: E2eProject;
let app: ResolvedKubeApp;
let stateDir: string;

/** A process id that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync("true");
  return child.pid;
}

class Killed extends Error {}

/** The store as a process sees it: after `freeze` (the process is dead) nothing reaches it. */
function killableStore(real: HistoryStore): { store: HistoryStore; freeze(): void } {
  let frozen = false;
  const pid = deadPid();
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "acquireLease")
        return (appName: string, o: Parameters<HistoryStore["acquireLease"]>[1]) =>
          target.acquireLease(appName, { ...o, pid });
      return (...args: unknown[]) =>
        frozen && prop !== "close" ? Promise.resolve(undefined) : value.apply(target, args);
    },
  });
  return {
    store,
    freeze() {
      frozen = true;
    },
  };
}

async function input(
  store: HistoryStore,
  signal: AbortSignal,
  events: KubecontrolEvent[],
): Promise<CreateInput> {
  return {
    app,
    colour: "blue",
    projectRoot: project.root,
    stateDir,
    aws: createAws({ region: sbx.region }),
    ecr: await EcrImages.create({ region: sbx.region }),
    builder: () =>
      chooseBuilder(app, {
        imageBuilder: "buildah",
        stateDir,
        aws: { region: sbx.region },
        caBundles: caBundlesFromEnv(),
      }),
    awsEndpoint: sbx.endpoint,
    concurrency: 1,
    dryRun: false,
    store,
    leaseTtlMs: 60_000,
    leaseMarginMs: 10_000,
    emit: (e) => events.push(e),
    signal,
    stack: { pace: { pollMs: 50, maxPollMs: 500 } },
  };
}

beforeAll(async () => {
  project = await e2eProject("fp");
  sbx = project.sbx;
  stateDir = path.join(project.root, ".state");
  Object.assign(process.env, sbx.env, { AWS_ACCESS_KEY_ID: testAccessKeyId() });
  app = (await loadApp(path.join(project.root, "apps"), project.app)).app;
}, 120_000);

afterAll(async () => {
  armFailpoints(undefined);
  await project?.cleanup();
}, 180_000);

describe("create killed at every failpoint, in-process", () => {
  it("finishes after each kill with exactly one resource per logical name and every run in history", async () => {
    const hit: string[] = [];
    const store = await openSqliteStore(stateDir);
    for (let attempt = 0; attempt < 400; attempt++) {
      const killable = killableStore(store);
      const controller = new AbortController();
      let point: string | undefined;
      // given every failpoint not yet hit armed: the run stops at the first new one it reaches
      armFailpoints(
        (p) => !hit.includes(p),
        (p) => {
          point = p;
          killable.freeze();
          controller.abort(new KubecontrolError("CANCELLED", `killed at ${p}`));
          throw new Killed(p);
        },
      );
      const events: KubecontrolEvent[] = [];
      const outcome = await createApp(await input(killable.store, controller.signal, events)).catch(
        (err: unknown) => err,
      );
      if (point === undefined) {
        // then the run that reached no new failpoint completed the create
        expect(outcome, String((outcome as Error).message)).toMatchObject({ result: expect.any(String) });
        break;
      }
      hit.push(point);
    }
    armFailpoints(undefined);

    // then every phase of the matrix was reached, on the AWS stack, the image, the objects and DNS
    const phases = new Set(hit.map((p) => p.split(":")[1]));
    expect([...phases].sort()).toEqual(["after-apply", "after-journal", "before-apply"]);
    const applied = hit.filter((p) => p.endsWith(":after-apply")).map((p) => p.slice(0, p.lastIndexOf(":")));
    expect(applied).toEqual(expect.arrayContaining(["ensure-image", "ensure-kube-objects"]));
    for (const kind of ["eks-cluster", "auto-scaling-group", "load-balancer", "shift-dns"])
      expect(
        applied.some((s) => s.includes(kind)),
        kind,
      ).toBe(true);
    console.info(
      `failpoint matrix: ${hit.length} kills over ${new Set(hit.map((p) => p.split(":")[0])).size} steps`,
    );

    // and exactly one AWS resource per logical name, none missing
    const plan = planApp({ app, colour: "blue", version: "any" });
    const seen = await inventory(sbx, plan);
    for (const r of plan.aws) expect(seen.get(r.id)?.length, r.id).toBe(1);

    // and history has every killed run, closed as interrupted by the run that took over, then the one that finished
    const runs = await store.listRuns({ app: project.app, limit: 1000 });
    expect(runs).toHaveLength(hit.length + 1);
    const [last, ...killed] = runs;
    // (the last kill may have come after the last step's journal write: then nothing is left to do)
    expect(["succeeded", "no-op"]).toContain(last?.result);
    expect(killed.every((r) => r.result === "interrupted")).toBe(true);
    expect(killed[0]?.error).toMatch(/^INTERRUPTED: its process stopped .*taken over by run-/);
    await store.close();
  }, 900_000);
});
