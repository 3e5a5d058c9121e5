#!/usr/bin/env node
// `kubecontrol list` over 60 generated apps: warm (spec cache primed) and cold (no loader cache).
// Goal: warm median ≤ 300 ms.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fmt, median } from "./lib.mjs";

const bin = path.resolve(import.meta.dirname, "../bin/kubecontrol");
const runs = Number(process.env.RUNS ?? 21);
const root = mkdtempSync(path.join(tmpdir(), "kc-bench-list-"));
const apps = path.join(root, "apps");
mkdirSync(apps);
for (let i = 0; i < 60; i++) {
  const name = `app-${String(i).padStart(2, "0")}`;
  writeFileSync(
    path.join(apps, `${name}.ts`),
    `import { defineKubeApp } from "kubecontrol";
export default defineKubeApp({
  name: "${name}", owner: "team-${i % 7}", region: "us-east-1",
  hardware: {
    web: { instanceTypes: ["m6i.large", "m5.large"], min: 1, max: 6, desired: 2, spot: { onDemandBase: 1, onDemandPercentAboveBase: 25 } },
    worker: { instanceTypes: ["c6i.xlarge"], min: 1, max: 4 },
  },
  image: { repository: "${name}" },
  components: {
    web: { pool: "web", replicas: 3, containers: [{ name: "web", image: "app", ports: [{ name: "http", containerPort: 8080 }],
           env: { LOG_LEVEL: "info" }, resources: { cpu: "250m", memory: "256Mi" }, readiness: { httpGet: { path: "/healthz", port: 8080 } } }] },
    worker: { pool: "worker", replicas: 2, containers: [{ name: "worker", image: "app", command: ["worker"] }] },
  },
  services: { web: { component: "web", port: 80, targetPort: "http", loadBalancer: { listeners: [{ port: 80, protocol: "HTTP" }] } } },
  deploy: { schedule: "${i % 60} */6 * * *" },
});
`,
  );
}
const cache = path.join(root, "cache");
const args = [bin, "--apps", apps, "list", "-o", "name"];
const warm = median(process.execPath, args, { runs, env: { ...process.env, XDG_CACHE_HOME: cache } });
const cold = median(process.execPath, args, {
  runs: Math.max(5, Math.floor(runs / 3)),
  warmup: 1,
  env: { ...process.env, XDG_CACHE_HOME: cache, KUBECONTROL_SPEC_CACHE: "0" },
});
console.log(`kubecontrol list, 60 apps, warm   median ${fmt(warm)} (goal ≤ 300 ms)`);
console.log(`kubecontrol list, 60 apps, cold   median ${fmt(cold)} (no loader cache)`);
if (process.env.BENCH_JSON) console.log(JSON.stringify({ warmMs: warm, coldMs: cold }));
rmSync(root, { recursive: true, force: true });
