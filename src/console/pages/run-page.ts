import type { RunData, StepView } from "../data.js";
import { duration, type Html, html, short, when } from "../html.js";
import { chip } from "./layout.js";

/** One run: who, host, trigger, from → to with the commit's subject; the first error on top; the timeline to scale; events; the difference from the previous run. */
export function runPage(d: RunData): Html {
  const r = d.run;
  const l = d.live;
  return html`<h1>${r.command} <a href="/apps/${encodeURIComponent(r.app)}">${r.app}</a> ${chip(r.result)}${d.rollback ? html` ${chip("rollback", "rollback")}` : ""}</h1>
${d.firstError ? html`<section class="error" id="first-error"><h2>${d.firstError.where} failed</h2><pre>${d.firstError.text}</pre>${d.firstError.hint ? html`<p class="hint">${d.firstError.hint}</p>` : ""}</section>` : ""}
<table class="kv"><tbody>
<tr><th>Run</th><td class="mono">${r.id}</td></tr>
<tr><th>Who</th><td>${r.who}</td></tr>
<tr><th>Host</th><td>${d.host}</td></tr>
<tr><th>Trigger</th><td>${r.trigger ?? "not recorded"}</td></tr>
<tr><th>Version</th><td><span class="mono">${short(d.fromVersion)}</span> → <span class="mono">${short(r.version)}</span>${r.colour ? html` on ${chip(r.colour)}` : ""}</td></tr>
<tr><th>Commit</th><td class="subject" id="subject">${r.subject ?? "not recorded"}</td></tr>
<tr><th>Started</th><td>${when(r.startedAt)}</td></tr>
<tr><th>Finished</th><td>${r.finishedAt === null ? "-" : html`${when(r.finishedAt)} (${duration(r.finishedAt - r.startedAt)})`}</td></tr>
</tbody></table>
<section id="live" data-run="${r.id}" data-result="${l.result}">
<h2>Steps</h2>
<p class="asof">As of <time id="as-of">${when(l.asOf)}</time> <span id="stale" class="chip chip-failed"${l.stale ? "" : html` hidden`}>stale: the run stopped reporting</span>${l.result === "running" ? html` <span class="note" id="live-note">updates as it runs (reload without JavaScript)</span>` : ""}</p>
<table class="timeline"><thead><tr><th>Step</th><th>Status</th><th>Duration</th><th class="bar-col">Timeline</th></tr></thead>
<tbody id="steps">${timelineRows(l.steps, l.startedAt, l.finishedAt ?? l.asOf)}</tbody></table>
</section>
<section><h2>Difference from the previous run</h2>
${d.previous ? diff(d) : html`<p class="note">The first run of ${r.app}.</p>`}
</section>
<section><h2>Events</h2>
<ol class="events">${d.events.map((e) => html`<li><time>${when(e.at)}</time> ${e.text}</li>`)}</ol>
</section>`;
}

/** Rows of the step timeline, each bar drawn to scale against the run's length (SVG attributes: no inline style). */
export function timelineRows(steps: StepView[], start: number, end: number): Html[] {
  const total = Math.max(1, end - start);
  return steps.map((s) => {
    const to = s.finishedAt ?? end;
    const x = Math.max(0, Math.min(1000, ((s.startedAt - start) / total) * 1000));
    const w = Math.max(2, Math.min(1000 - x, ((to - s.startedAt) / total) * 1000));
    return html`<tr data-step="${s.step}" class="step-${s.status}">
<td class="mono">${s.step}${s.changed ? html` <span class="sub">changed</span>` : ""}${s.error ? html`<div class="sub problems">${s.error}</div>` : ""}</td>
<td>${chip(s.status)}</td>
<td>${duration(to - s.startedAt)}</td>
<td class="bar-col"><svg class="bar" viewBox="0 0 1000 10" preserveAspectRatio="none" width="100%" height="12" aria-hidden="true"><rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="10" class="s-${s.status}"></rect></svg></td>
</tr>`;
  });
}

function diff(d: RunData): Html {
  const p = d.previous!.run;
  const r = d.run;
  const rows: [string, string, string][] = [
    ["Run", p.id, r.id],
    ["Command", p.command, r.command],
    ["Result", p.result, r.result],
    ["Version", short(p.version), short(r.version)],
    ["Colour", p.colour ?? "-", r.colour ?? "-"],
    ["Plan hash", short(p.planHash), short(r.planHash)],
    ["Options", p.options ? JSON.stringify(p.options) : "-", r.options ? JSON.stringify(r.options) : "-"],
    [
      "Steps that changed something",
      d.previous!.changedSteps.join(", ") || "none",
      d.changedSteps.join(", ") || "none",
    ],
  ];
  return html`<table class="diff"><thead><tr><th></th><th><a href="/runs/${encodeURIComponent(p.id)}">previous</a> (${when(p.startedAt)})</th><th>this run</th></tr></thead><tbody>
${rows.map(([k, a, b]) => html`<tr class="${a === b ? "same" : "changed"}"><th>${k}</th><td class="mono">${a}</td><td class="mono">${b}</td></tr>`)}
</tbody></table>`;
}
