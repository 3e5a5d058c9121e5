#!/usr/bin/env node
// Records what kubecontrol observes of an app (observeApp: both colours' clusters and DNS weights)
// as a fixture for the fast tier's decision tests: test/fixtures/observed/<name>.json.
//
//   eval "$(bin/kubecontrol sandbox env)"; scripts/record-observed.mjs hello created-blue
//
// `recordedAt` is when it was read: a test judges times (cluster ages, kept-until) against it.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createAws } from "../dist/aws/create-aws.js";
import { awsOptionsFor } from "../dist/cli/deploy-run.js";
import { loadConfig } from "../dist/config/config.js";
import { observeApp } from "../dist/engine/observe/live-state.js";
import { companyDefaults } from "../dist/spec/defaults/company.js";
import { loadApp } from "../dist/spec/loader.js";

const [name, fixture] = process.argv.slice(2);
if (!name || !fixture) {
  process.stderr.write("usage: scripts/record-observed.mjs <app> <fixture-name>\n");
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, "..");
const config = await loadConfig(undefined);
const { app } = await loadApp(path.join(root, "apps"), name, {
  region: config.values.region,
  defaults: { ...companyDefaults, dnsZone: config.values.dnsZone },
});
const state = await observeApp(app, createAws(awsOptionsFor(config, app.region)));
const recordedAt = Date.now();
for (const c of Object.values(state.colours)) {
  // Where a cluster answers is the sandbox's port of the day: not part of what is decided.
  if (c.cluster?.endpoint)
    c.cluster.endpoint = { endpoint: "https://recorded.invalid", certificateAuthority: "" };
}
const file = path.join(root, "test/fixtures/observed", `${fixture}.json`);
writeFileSync(file, `${JSON.stringify({ recordedAt, state }, null, 2)}\n`);
process.stderr.write(`wrote ${path.relative(root, file)}\n`);
