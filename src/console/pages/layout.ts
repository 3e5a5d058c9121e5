import { type Html, html } from "../html.js";

/** The page around every view: the console's stylesheet and script (no inline code), the CSRF token, the navigation. */
export function layout(o: {
  title: string;
  nav: "fleet" | "history" | "app" | "run";
  csrf: string;
  body: Html;
}): string {
  const link = (href: string, label: string, key: string) =>
    html`<a href="${href}"${o.nav === key ? html` aria-current="page"` : ""}>${label}</a>`;
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="kc-csrf" content="${o.csrf}">
<title>${o.title} · KubeApp Management Console</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/">KubeApp Management Console</a>
<nav>${link("/", "Fleet", "fleet")}${link("/history", "History", "history")}</nav></header>
<main>
${o.body}
</main>
</body>
</html>`.text
  }\n`;
}

/** A small coloured label: a health, a result, a colour. */
export function chip(text: string, kind = text): Html {
  return html`<span class="chip chip-${kind.replace(/[^a-z-]/g, "")}">${text}</span>`;
}
