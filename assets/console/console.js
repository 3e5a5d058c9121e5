// The KubeApp Management Console's one script. Every page works without it; it adds the live
// steps of a running run (server-sent events) and the confirmed actions (JSON with the page's
// CSRF token). It builds the page with textContent and attributes only: no HTML from data.

const SVG = "http://www.w3.org/2000/svg";

function when(ms) {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

function duration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function el(name, attrs, ...children) {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function chip(text) {
  return el("span", { class: `chip chip-${text.replace(/[^a-z-]/g, "")}` }, text);
}

/** The timeline's rows for a run's state, as the server draws them (bars to scale, in SVG). */
function stepRows(live) {
  const end = live.finishedAt ?? live.asOf;
  const total = Math.max(1, end - live.startedAt);
  return live.steps.map((s) => {
    const to = s.finishedAt ?? end;
    const x = Math.max(0, Math.min(1000, ((s.startedAt - live.startedAt) / total) * 1000));
    const w = Math.max(2, Math.min(1000 - x, ((to - s.startedAt) / total) * 1000));
    const name = el("td", { class: "mono" }, s.step);
    if (s.changed) name.append(" ", el("span", { class: "sub" }, "changed"));
    if (s.error) name.append(el("div", { class: "sub problems" }, s.error));
    const svg = document.createElementNS(SVG, "svg");
    for (const [k, v] of Object.entries({
      class: "bar",
      viewBox: "0 0 1000 10",
      preserveAspectRatio: "none",
      width: "100%",
      height: "12",
    }))
      svg.setAttribute(k, v);
    const rect = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({
      x: x.toFixed(1),
      y: "0",
      width: w.toFixed(1),
      height: "10",
      class: `s-${s.status}`,
    }))
      rect.setAttribute(k, v);
    svg.append(rect);
    return el(
      "tr",
      { "data-step": s.step, class: `step-${s.status}` },
      name,
      el("td", {}, chip(s.status)),
      el("td", {}, duration(to - s.startedAt)),
      el("td", { class: "bar-col" }, svg),
    );
  });
}

function followRun() {
  const section = document.getElementById("live");
  if (section?.dataset.result !== "running" || !window.EventSource) return;
  const id = section.dataset.run;
  const source = new EventSource(`/api/v1/runs/${encodeURIComponent(id)}/events`);
  const note = document.getElementById("live-note");
  if (note) note.textContent = "live";
  source.addEventListener("run", (e) => {
    const live = JSON.parse(e.data);
    document.getElementById("as-of").textContent = when(live.asOf);
    document.getElementById("stale").hidden = !live.stale;
    document.getElementById("steps").replaceChildren(...stepRows(live));
    section.dataset.result = live.result;
    if (live.result !== "running") {
      if (note) note.textContent = `finished: ${live.result} (reload for the whole run)`;
      source.close();
    }
  });
  source.addEventListener("error", () => {
    if (note) note.textContent = "not receiving: reload the page";
  });
}

function actionForms() {
  const csrf = document.querySelector('meta[name="kc-csrf"]')?.getAttribute("content") ?? "";
  for (const form of document.querySelectorAll("form.action")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = form.querySelector("output");
      const body = Object.fromEntries(new FormData(form).entries());
      if (body.confirm !== form.dataset.app) {
        out.textContent = `type ${form.dataset.app} to confirm`;
        return;
      }
      out.textContent = "working…";
      try {
        const res = await fetch(form.dataset.action, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(body),
          credentials: "same-origin",
        });
        const answer = await res.json();
        out.textContent = res.ok
          ? "done: reload to see the app as it is now"
          : `refused: ${answer.error}${answer.hint ? ` (${answer.hint})` : ""}`;
      } catch (err) {
        out.textContent = `failed: ${err.message}`;
      }
    });
  }
}

followRun();
actionForms();
