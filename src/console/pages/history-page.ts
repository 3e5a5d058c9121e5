import type { ListedRun, RunPage } from "../../history/types.js";
import { COMMANDS, type HistoryQuery, RESULTS } from "../data.js";
import { duration, type Html, html, query, short, when } from "../html.js";
import { chip } from "./layout.js";

/** History across apps: a plain GET form of filters (works without JavaScript), cursor paging, permalinks. */
export function historyPage(page: RunPage, q: HistoryQuery): Html {
  const p = q.params;
  const select = (name: string, values: readonly string[]) =>
    html`<select name="${name}" id="f-${name}"><option value="">any</option>${values.map(
      (v) => html`<option${p[name] === v ? html` selected` : ""}>${v}</option>`,
    )}</select>`;
  const input = (name: string, type = "text", placeholder = "") =>
    html`<input type="${type}" name="${name}" id="f-${name}" value="${p[name] ?? ""}" placeholder="${placeholder}">`;
  const next = page.next
    ? html`<a rel="next" id="next-page" href="/history${query({ ...p, after: page.next })}">Older runs</a>`
    : "";
  return html`<h1>History</h1>
<form class="filters" method="get" action="/history">
<label for="f-app">App</label>${input("app")}
<label for="f-result">Result</label>${select("result", RESULTS)}
<label for="f-command">Command</label>${select("command", COMMANDS)}
<label for="f-who">Who</label>${input("who", "text", "alice")}
<label for="f-version">Version</label>${input("version", "text", "3f9c2e1")}
<label for="f-since">From (UTC)</label>${input("since", "datetime-local")}
<label for="f-until">To (UTC)</label>${input("until", "datetime-local")}
<button type="submit">Filter</button> <a href="/history">clear</a>
</form>
${q.problems.map((m) => html`<p class="problem">${m}</p>`)}
<table class="history"><thead><tr><th>Started</th><th>App</th><th>Command</th><th>Result</th><th>Version</th><th>Who</th><th>Trigger</th><th>Duration</th></tr></thead>
<tbody>${historyRows(page.runs)}</tbody></table>
${page.runs.length === 0 ? html`<p class="empty">No run matches.</p>` : ""}
<nav class="pages">${q.after ? html`<a href="/history${query(p)}">Newest runs</a>` : ""} ${next}</nav>`;
}

/** Rows of runs: each links to its run; a rollback is labelled. */
export function historyRows(runs: ListedRun[]): Html[] {
  return runs.map(
    (r) => html`<tr data-run="${r.id}">
<td><a href="/runs/${encodeURIComponent(r.id)}">${when(r.startedAt)}</a></td>
<td><a href="/apps/${encodeURIComponent(r.app)}">${r.app}</a></td>
<td>${r.command}${r.rollback ? html` ${chip("rollback", "rollback")}` : ""}</td>
<td>${chip(r.result)}</td>
<td class="mono">${short(r.version)}${r.subject ? html`<div class="sub subject">${r.subject}</div>` : ""}</td>
<td>${r.who}</td>
<td>${r.trigger ?? "-"}</td>
<td>${r.finishedAt === null ? "-" : duration(r.finishedAt - r.startedAt)}</td>
</tr>`,
  );
}
