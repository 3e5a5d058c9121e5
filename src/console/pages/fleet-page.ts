import type { FleetData } from "../data.js";
import { needsAttention } from "../data.js";
import type { FleetEntry } from "../fleet.js";
import { ago, type Html, html, query, short, when } from "../html.js";
import { chip } from "./layout.js";

const HEALTHS = ["healthy", "degraded", "deploying", "failed", "absent", "unknown"];

/** The fleet: one row per app, status chips that filter, and "needs attention", all kept in the URL. */
export function fleetPage(d: FleetData): Html {
  const f = d.filter;
  const attention = f.attention ? "1" : undefined;
  const chips = HEALTHS.filter((h) => d.counts[h]).map(
    (h) =>
      html`<a class="filter${f.health === h ? " on" : ""}" href="/${query({ health: f.health === h ? undefined : h, attention })}">${chip(h)} ${d.counts[h]}</a>`,
  );
  const source =
    d.view.source === "snapshot"
      ? html`<p class="note">Showing a recorded snapshot (read ${when(d.view.readAt)}), not live state.</p>`
      : html`<p class="note">Read live ${when(d.view.readAt)} (${ago(d.view.readAt)}); read again at most every few seconds.</p>`;
  return html`<h1>Fleet</h1>
${source}
${d.view.problems.map((p) => html`<p class="problem">${p}</p>`)}
<div class="chips">
<a class="filter${f.attention ? " on" : ""}" href="/${query({ health: f.health, attention: f.attention ? undefined : "1" })}" id="attention">needs attention ${d.attention}</a>
${chips}
${f.health || f.attention ? html`<a class="filter" href="/">all ${d.view.apps.length}</a>` : ""}
</div>
<table class="fleet">
<thead><tr><th>App</th><th>Health</th><th>Live</th><th>Version</th><th>Cluster</th><th>Nodes Ready/desired</th><th>DNS</th><th>Last deploy</th><th>Lease</th><th>Running</th></tr></thead>
<tbody>
${d.shown.map(row)}
</tbody>
</table>
${d.shown.length === 0 ? html`<p class="empty">No app matches.</p>` : ""}`;
}

function row(e: FleetEntry): Html {
  const s = e.status;
  const live = s.live?.kind === "live" ? s.live.colour : undefined;
  const c = live ? s.colours?.[live] : undefined;
  const view = c?.view;
  // Desired: what the pools' Auto Scaling groups ask for now, else what the spec asks for.
  const desired = c?.pools?.length ? c.pools.reduce((n, p) => n + p.desired, 0) : e.desiredNodes;
  const nodes = view
    ? `${view.nodes.ready}/${desired ?? view.nodes.total}${desired !== undefined && desired !== view.nodes.total ? ` (${view.nodes.total} registered)` : ""}`
    : "-";
  const weights = s.colours
    ? (["blue", "green"] as const)
        .filter((k) => s.colours![k].record)
        .map((k) => `${k} ${s.colours![k].record!.weight}`)
        .join(", ")
    : "";
  const held = s.lease && !s.lease.holderGone && s.lease.expiresAt > s.readAt;
  const running = s.lastRun?.result === "running" ? s.lastRun : undefined;
  return html`<tr class="${needsAttention(e) ? "attention" : ""}" data-app="${s.app}">
<td><a href="/apps/${encodeURIComponent(s.app)}">${s.app}</a></td>
<td>${chip(s.health)}<div class="sub" title="${s.problems.join("\n")}">read ${when(s.readAt)}</div>${s.problems.length ? html`<div class="sub problems">${s.problems[0]}</div>` : ""}</td>
<td>${live ? chip(live) : (s.live?.kind ?? "-")}</td>
<td class="mono">${short(view?.version)}</td>
<td>${c?.cluster ? html`${c.cluster.name} <span class="sub">${c.cluster.status}</span>` : "-"}</td>
<td>${nodes}</td>
<td>${s.dnsName ?? "-"}<div class="sub">${weights}</div></td>
<td>${s.lastRun ? html`<a href="/runs/${encodeURIComponent(s.lastRun.id)}">${s.lastRun.command}</a> ${chip(s.lastRun.result)}<div class="sub">${s.lastRun.who}, ${when(s.lastRun.startedAt)}</div>` : "-"}</td>
<td>${s.lease ? html`${s.lease.owner}${s.lease.holderGone ? html` <span class="sub">(gone)</span>` : held ? "" : html` <span class="sub">(expired)</span>`}` : "-"}</td>
<td>${running ? html`<a href="/runs/${encodeURIComponent(running.id)}">${running.command} ${short(running.version)}</a>` : "-"}</td>
</tr>`;
}
