// A preload (`node --import ./bench/rss-probe.mjs bin/kubecontrol …`) that watches the memory of
// the process it runs in and writes what it saw to $KC_BENCH_RSS_FILE (JSON) at exit:
//   - startRss: RSS when the preload ran (bare node);
//   - loaded[]: when each AWS SDK client package (@aws-sdk/client-*, CommonJS) finished loading,
//     with RSS at that moment and whether @kubernetes/client-node's graph was loaded by then;
//   - peakSample: the largest RSS of a sample every SAMPLE_MS, with the heap breakdown then;
//   - maxRss: the kernel's high-water mark (getrusage maxRSS; also /proc VmHWM), at exit;
//   - with KC_BENCH_HEAP_SNAPSHOT=1, a heap snapshot at exit (<report>.heapsnapshot).
// No hooks thread (module.register would add a worker isolate to the RSS being measured): CommonJS
// loads are seen by wrapping Module.prototype._compile, which runs on the main thread.
import { readFileSync, writeFileSync } from "node:fs";
import Module from "node:module";
import v8 from "node:v8";

const out = process.env.KC_BENCH_RSS_FILE;
const SAMPLE_MS = Number(process.env.KC_BENCH_RSS_SAMPLE_MS ?? 25);

if (out) {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
  const startRss = process.memoryUsage.rss();
  const loaded = [];
  const timeline = [];
  let peak = { atMs: 0, rss: startRss };

  // A CommonJS module only @kubernetes/client-node's graph loads: seen in the require cache once it has.
  const kubeLoaded = () =>
    Object.keys(Module._cache).some((f) => f.includes("/node_modules/stream-buffers/"));

  const compile = Module.prototype._compile;
  Module.prototype._compile = function (...args) {
    const result = compile.apply(this, args);
    const m = /\/(@aws-sdk\/client-[^/]+)\/dist-cjs\/index\.js$/.exec(String(args[1]));
    if (m)
      loaded.push({ module: m[1], atMs: ms(), rssMB: mb(process.memoryUsage.rss()), kube: kubeLoaded() });
    return result;
  };

  const sample = () => {
    const u = process.memoryUsage();
    if (u.rss > peak.rss) peak = { atMs: ms(), rss: u.rss, usage: u };
    timeline.push([ms(), mb(u.rss)]);
  };
  setInterval(sample, SAMPLE_MS).unref();

  process.on("exit", () => {
    sample();
    const status = readFileSync("/proc/self/status", "utf8");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const usage = peak.usage ?? process.memoryUsage();
    writeFileSync(
      out,
      JSON.stringify({
        startRssMB: mb(startRss),
        loaded,
        kubeLoadedAtExit: kubeLoaded(),
        peakSample: {
          atMs: peak.atMs,
          rssMB: mb(peak.rss),
          heapUsedMB: mb(usage.heapUsed),
          heapTotalMB: mb(usage.heapTotal),
          externalMB: mb(usage.external),
          arrayBuffersMB: mb(usage.arrayBuffers),
        },
        maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
        vmHwmMB: hwm ? mb(Number(hwm[1]) * 1024) : undefined,
        durationMs: ms(),
        timeline,
      }),
    );
    // Diagnosis: KC_BENCH_HEAP_SNAPSHOT=1 also writes the heap as it is at exit, next to the report.
    if (process.env.KC_BENCH_HEAP_SNAPSHOT)
      v8.writeHeapSnapshot(`${out.replace(/\.json$/, "")}.heapsnapshot`);
  });
}
