#!/usr/bin/env node
// Start-up: `kubecontrol --help` against bare `node -e 0`, medians and their ratio (goal: ratio ≤ 2).
import path from "node:path";
import { fmt, median } from "./lib.mjs";

const bin = path.resolve(import.meta.dirname, "../bin/kubecontrol");
const runs = Number(process.env.RUNS ?? 31);
const node = median(process.execPath, ["-e", "0"], { runs });
const help = median(process.execPath, [bin, "--help"], { runs });
const ratio = help / node;
console.log(`node -e 0            median ${fmt(node)}`);
console.log(`kubecontrol --help   median ${fmt(help)}`);
console.log(`ratio                ${ratio.toFixed(2)} (goal ≤ 2.00)`);
if (process.env.BENCH_JSON) console.log(JSON.stringify({ nodeMs: node, helpMs: help, ratio }));
