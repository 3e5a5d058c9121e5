// A preload (`node --import ./bench/rollout-probe.mjs bin/kubecontrol …`) that notes, in the
// process it runs in, when each HTTP(S) request starts, gets its answer's headers and ends, and
// when the CLI's module graph is first in use, and writes them to $KC_BENCH_TIMINGS_FILE (JSON)
// at exit. Times are Date.now() milliseconds, comparable with the CLI's --json events. The
// wrappers cost microseconds per request; nothing else is touched.
import { writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

const out = process.env.KC_BENCH_TIMINGS_FILE;

if (out) {
  // Date.now() of the process's start (before Node bootstrapped) and of this preload.
  const startedAt = Math.round(performance.timeOrigin);
  const preloadAt = Date.now();
  const requests = [];

  const wrap = (mod, scheme) => {
    const request = mod.request;
    mod.request = function (...args) {
      const req = request.apply(this, args);
      const r = { scheme, method: req.method, host: req.host, path: req.path, start: Date.now() };
      requests.push(r);
      req.once("response", (res) => {
        r.status = res.statusCode;
        r.headers = Date.now();
        res.once("end", () => {
          r.end = Date.now();
        });
        res.once("close", () => {
          r.end ??= Date.now();
        });
      });
      req.once("error", () => {
        r.end ??= Date.now();
      });
      return req;
    };
    // http.get calls the module's own request, not the export: route it through the wrapper.
    mod.get = (...args) => {
      const req = mod.request(...args);
      req.end();
      return req;
    };
  };
  wrap(http, "http");
  wrap(https, "https");

  process.once("exit", () => {
    writeFileSync(out, JSON.stringify({ startedAt, preloadAt, exitAt: Date.now(), requests }));
  });
}
