import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppStatus } from "../../src/engine/observe/app-status.js";
import { KubeClient } from "../../src/kube/client.js";
import { kubeConfigFromFile } from "../../src/kube/cluster-access.js";
import { adminKubeconfigPath } from "../../src/sandbox/k8s/control-plane.js";
import { loadStages, STAGE_LABEL } from "../../src/sandbox/k8s/stages.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { spawnCli } from "../helpers/e2e-runs.js";
import { callCounts, testAccessKeyId } from "../helpers/sandbox.js";

// `status` reads each app live: absent before it is deployed, failed when a create was killed
// half-way, healthy once finished, degraded when a workload stops being ready. Exit 10 says some
// app is not healthy, so monitoring can use it.

let p: E2eProject;

beforeAll(async () => {
  p = await e2eProject("stat");
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

async function status(): Promise<{ code: number; app: AppStatus; table: string }> {
  const json = await p.kubecontrol(["status", p.app, "-o", "json"]);
  const table = await p.kubecontrol(["status", p.app]);
  expect(table.status).toBe(json.status);
  const apps = (JSON.parse(json.stdout) as { apps: AppStatus[] }).apps;
  expect(apps.map((a) => a.app)).toEqual([p.app]);
  return { code: json.status, app: apps[0]!, table: table.stdout };
}

describe("kubecontrol status", () => {
  it("shows an app through absent, half made, healthy and degraded, exiting 10 when it is not healthy", async () => {
    const absent = await status();
    expect(absent.app.health).toBe("absent");
    expect(absent.code).toBe(0);

    // a create killed after its workloads ran, before DNS moved
    const killed = await p.kubecontrol(["create", p.app, "--yes"], {
      env: { KUBECONTROL_FAILPOINTS: "keep-live-image:before-apply" },
    });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const half = await status();
    expect(half.code).toBe(10);
    expect(half.app.health).toBe("failed");
    expect(half.app.problems.join("\n")).toMatch(
      /gives no colour any weight, though blue stands: an unfinished create/,
    );
    expect(half.app.problems.join("\n")).toMatch(/that held the lease is gone \(pid \d+\)/);
    expect(half.table).toMatch(new RegExp(`${p.app}\\s+failed\\s`));

    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const healthy = await status();
    expect(healthy.code).toBe(0);
    expect(healthy.app).toMatchObject({
      health: "healthy",
      problems: [],
      live: { kind: "live", colour: "blue", weight: 100 },
      colours: {
        blue: {
          cluster: { status: "ACTIVE" },
          record: { weight: 100 },
          view: { version: p.git("rev-parse", "HEAD") },
        },
        green: { colour: "green" },
      },
      lastRun: { command: "create", result: "succeeded" },
    });
    const view = healthy.app.colours!.blue.view!;
    expect(view.workloads.ready).toBe(view.workloads.desired);
    expect(view.nodes.ready).toBeGreaterThan(0);
    // the load balancer's targets, the pool's nodes against its group's desired, the source's head
    const blue = healthy.app.colours!.blue;
    expect(blue.targets).toEqual({ healthy: 2, total: 2 });
    expect(blue.pools).toEqual([{ pool: "general", capacity: "on-demand", desired: 2, inService: 2 }]);
    expect(view.pools).toEqual({ general: { ready: 2, total: 2 } });
    expect(healthy.app.source).toEqual({ head: p.git("rev-parse", "HEAD"), behind: 0 });
    expect(healthy.table).toMatch(
      new RegExp(
        `${p.app}\\s+healthy\\s+blue\\s+${p.git("rev-parse", "HEAD").slice(0, 12)} \\(head\\)\\s+\\d+/\\d+\\s+2/2\\s+general 2/2\\s`,
      ),
    );

    // a commit the live colour does not run yet: one behind
    p.commitChange("not deployed yet");
    const behind = await status();
    expect(behind.app.source?.behind).toBe(1);
    expect(behind.table).toMatch(/ \(-1\)\s/);

    // a snapshot of what -o json printed is read back without AWS, as it was
    const snapshot = path.join(p.root, "fleet.json");
    const json = await p.kubecontrol(["status", p.app, "-o", "json"]);
    writeFileSync(snapshot, json.stdout);
    const key = testAccessKeyId();
    const replay = await p.kubecontrol(["status", p.app, "--from", snapshot], { accessKeyId: key });
    expect(replay.status, replay.stderr).toBe(0);
    // (read a moment apart: ages may differ)
    const ages = (t: string) => t.replace(/\b\d+[smhd]\b/g, "…");
    expect(ages(replay.stdout)).toBe(ages(behind.table));
    expect((await callCounts(p.sbx, key)).total).toBe(0);
    // a snapshot without the app is named as such (exit 8), not taken for an AWS failure
    const other = path.join(p.root, "other.json");
    writeFileSync(
      other,
      JSON.stringify({ apps: [{ app: "other", health: "healthy", problems: [], readAt: 1 }] }),
    );
    const missing = await p.kubecontrol(["status", p.app, "--from", other]);
    expect(missing.status, missing.stderr).toBe(8);
    expect(missing.stderr).toMatch(new RegExp(`--from .*other\\.json: holds none of ${p.app}`));
    expect(missing.stderr).toMatch(/hint: it holds other/);
    expect(missing.stderr).not.toMatch(/credentials/);

    // --watch prints a reading, then only what changes, until it is stopped (exit 0)
    const watched = await spawnCli(["status", p.app, "--watch", "--interval", "1s", "-o", "json"], {
      cwd: p.root,
      env: p.env,
      accessKeyId: testAccessKeyId(),
      timeoutMs: 8_000,
    }).done;
    expect(watched.status, watched.stderr).toBe(0);
    const readings = watched.stdout.trim().split("\n");
    expect(readings.length).toBeGreaterThanOrEqual(1);
    expect((JSON.parse(readings[0]!) as { apps: AppStatus[] }).apps[0]).toMatchObject({
      app: p.app,
      health: "healthy",
    });

    // a new revision of web whose pods never become ready
    const cluster = healthy.app.colours!.blue.cluster!.name;
    await loadStages(p.sbx.dir, cluster, ["pod-never-ready"]);
    const admin = new KubeClient(
      kubeConfigFromFile(adminKubeconfigPath(path.join(p.sbx.dir, "k8s"), cluster)),
    );
    try {
      await admin.request("PATCH", `/apis/apps/v1/namespaces/${p.app}/deployments/web`, {
        contentType: "application/merge-patch+json",
        body: { spec: { template: { metadata: { labels: { [STAGE_LABEL]: "never-ready" } } } } },
      });
    } finally {
      admin.close();
    }
    const degraded = await status();
    expect(degraded.code).toBe(10);
    expect(degraded.app.health).toBe("degraded");
    expect(degraded.app.problems).toContainEqual(
      expect.stringMatching(/of \d+ workloads ready \(deployment\/web\)/),
    );
  }, 300_000);
});
