import type { ColourStatus } from "../../engine/observe/app-status.js";
import type { AppData } from "../data.js";
import { ago, type Html, html, short, when } from "../html.js";
import { historyRows } from "./history-page.js";
import { chip } from "./layout.js";

/** One app: blue and green side by side, current against last good, recent deploys, and (with --allow-actions) its actions. */
export function appPage(d: AppData, o: { allowActions: boolean }): Html {
  const s = d.entry?.status;
  const live = s?.live?.kind === "live" ? s.live.colour : undefined;
  const current = live ? s?.colours?.[live]?.view?.version : undefined;
  const idle = live === "blue" ? "green" : live === "green" ? "blue" : undefined;
  const canSwitch = idle && s?.colours?.[idle]?.cluster?.status === "ACTIVE";
  return html`<h1>${d.name} ${s ? chip(s.health) : ""}</h1>
${s ? html`<p class="note">Read ${when(s.readAt)} (${ago(s.readAt)}). ${s.dnsName ? html`DNS name <span class="mono">${s.dnsName}</span>.` : ""}</p>` : html`<p class="note">Not in the fleet's last read.</p>`}
${s?.problems.length ? html`<ul class="problems">${s.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ""}
<section class="colours">
${(["blue", "green"] as const).map((c) => colourCard(c, s?.colours?.[c], live === c))}
</section>
<section>
<h2>Current against last good</h2>
<table class="kv"><tbody>
<tr><th>Current (live colour)</th><td class="mono">${short(current)}</td></tr>
<tr><th>Last good deploy</th><td>${d.lastGood ? html`<span class="mono">${short(d.lastGood.version)}</span> ${d.lastGood.subject ?? ""} <a href="/runs/${encodeURIComponent(d.lastGood.id)}">${d.lastGood.command} by ${d.lastGood.who}, ${when(d.lastGood.startedAt)}</a>` : "none recorded"}</td></tr>
<tr><th></th><td>${current && d.lastGood?.version ? (current === d.lastGood.version ? chip("same", "healthy") : chip("differs", "degraded")) : ""}</td></tr>
<tr><th>Lease</th><td>${d.lease ? html`${d.lease.owner} (pid ${d.lease.pid} on ${d.lease.host}), since ${when(d.lease.acquiredAt)}, heartbeat ${when(d.lease.heartbeatAt)}, expires ${when(d.lease.expiresAt)}` : "free"}</td></tr>
</tbody></table>
</section>
<section>
<h2>Recent deploys</h2>
<table class="history"><thead><tr><th>Started</th><th>App</th><th>Command</th><th>Result</th><th>Version</th><th>Who</th><th>Trigger</th><th>Duration</th></tr></thead>
<tbody>${historyRows(d.runs.runs)}</tbody></table>
<p><a href="/history?app=${encodeURIComponent(d.name)}">All of ${d.name}'s history</a></p>
</section>
${o.allowActions ? actions(d, idle && canSwitch ? idle : undefined) : ""}
${d.actions.length ? html`<section><h2>Actions taken from the console</h2><table class="history"><thead><tr><th>When</th><th>Action</th><th>Who</th><th>Why</th><th>Result</th><th>Detail</th></tr></thead><tbody>${d.actions.map((a) => html`<tr><td>${when(a.at)}</td><td>${a.action}</td><td>${a.who}</td><td>${a.why}</td><td>${chip(a.result)}</td><td>${a.detail ?? ""}</td></tr>`)}</tbody></table></section>` : ""}`;
}

function colourCard(colour: "blue" | "green", c: ColourStatus | undefined, live: boolean): Html {
  const view = c?.view;
  return html`<div class="colour colour-${colour}${live ? " live" : ""}">
<h2>${chip(colour)} ${live ? chip("live", "healthy") : chip("idle", "absent")}</h2>
<table class="kv"><tbody>
<tr><th>Version</th><td class="mono">${short(view?.version)}</td></tr>
<tr><th>Cluster</th><td>${c?.cluster ? html`${c.cluster.name} <span class="sub">${c.cluster.status}${c.cluster.kubernetesVersion ? ` · Kubernetes ${c.cluster.kubernetesVersion}` : ""}</span>` : "none"}</td></tr>
<tr><th>Nodes Ready</th><td>${view ? `${view.nodes.ready}/${view.nodes.total}` : "-"}</td></tr>
<tr><th>Workloads ready</th><td>${view ? `${view.workloads.ready}/${view.workloads.desired}` : "-"}${view?.workloads.notReady.length ? html`<div class="sub">${view.workloads.notReady.join(", ")}</div>` : ""}</td></tr>
<tr><th>Age</th><td>${c?.cluster?.createdAt ? ago(c.cluster.createdAt).replace(" ago", "") : "-"}</td></tr>
<tr><th>Targets healthy</th><td>${c?.targets ? `${c.targets.healthy}/${c.targets.total}` : "-"}</td></tr>
<tr><th>Pools</th><td>${c?.pools?.length ? c.pools.map((p) => `${p.pool}: ${p.inService}/${p.desired} ${p.capacity}`).join(", ") : "-"}</td></tr>
<tr><th>DNS weight</th><td>${c?.record ? String(c.record.weight) : "-"}</td></tr>
${c?.unreadable ? html`<tr><th>Unreadable</th><td class="problem">${c.unreadable}</td></tr>` : ""}
</tbody></table></div>`;
}

function actions(d: AppData, switchTo: string | undefined): Html {
  const confirm = html`<label>Type <b>${d.name}</b> to confirm <input name="confirm" autocomplete="off" required></label>
<label>Why <input name="why" maxlength="500" required></label>`;
  return html`<section class="actions" id="actions">
<h2>Actions</h2>
<noscript><p class="note">Actions need JavaScript (they are sent as JSON with the page's CSRF token).</p></noscript>
${
  switchTo
    ? html`<form class="action" data-action="/api/v1/apps/${encodeURIComponent(d.name)}/switch" data-app="${d.name}">
<input type="hidden" name="to" value="${switchTo}">
<p>Switch (roll back): give ${switchTo} all of DNS.</p>${confirm}<button type="submit">Switch to ${switchTo}</button><output></output></form>`
    : html`<p class="note">Switch: no idle colour with an ACTIVE cluster to switch to.</p>`
}
${
  d.lease
    ? html`<form class="action" data-action="/api/v1/apps/${encodeURIComponent(d.name)}/break-lease" data-app="${d.name}">
<input type="hidden" name="token" value="${String(d.lease.token)}">
<p>Break the lease of ${d.lease.owner} (token ${String(d.lease.token)}): only a stale one (expired, or its process gone on this host) is broken; its running runs are closed as interrupted.</p>${confirm}<button type="submit">Break the lease</button><output></output></form>`
    : ""
}
</section>`;
}
