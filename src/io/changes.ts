/**
 * What a run changed, grouped for people: by what was done (made, removed, DNS moved...) and the
 * kind of thing, from the steps' names (`ensure-<kind>/<key>`, `delete-<kind>/<key>`,
 * `ensure-image`, `switch-dns`...).
 */

export type ChangeAction = "made" | "removed" | "dns" | "rolled-out" | "waited" | "kept" | "other";

export interface ChangeGroup {
  action: ChangeAction;
  /** The kind of thing, e.g. "security-group", "image". */
  kind: string;
  /** Which ones (a step's key), in the order the steps came; empty for a kind that has one. */
  keys: string[];
}

const ACTIONS: Record<string, ChangeAction> = {
  ensure: "made",
  delete: "removed",
  switch: "dns",
  shift: "dns",
  "roll-out": "rolled-out",
  "wait-for": "waited",
  verify: "waited",
  keep: "kept",
};

const LABELS: Record<ChangeAction, string> = {
  made: "made or changed",
  removed: "removed",
  dns: "DNS moved",
  "rolled-out": "rolled out",
  waited: "waited for",
  kept: "kept",
  other: "other",
};

/** One step's name (`<verb>-<kind>[/<key>]`, docs/architecture.md) as action, kind and key. */
export function changeOf(step: string): ChangeGroup {
  const named = /^(wait-for|roll-out|[a-z]+)-([a-z0-9-]+?)(?:\/(.+))?$/.exec(step);
  const action = named && ACTIONS[named[1]!];
  if (!named || !action) return { action: "other", kind: step, keys: [] };
  const [, , kind, key] = named;
  return { action, kind: kind!, keys: key ? [key] : [] };
}

/** The steps that changed, grouped by action (in a run's order) and kind (as they came). */
export function groupChanges(steps: readonly string[]): ChangeGroup[] {
  const groups: ChangeGroup[] = [];
  for (const step of steps) {
    const c = changeOf(step);
    const same = groups.find((g) => g.action === c.action && g.kind === c.kind);
    if (same) same.keys.push(...c.keys);
    else groups.push(c);
  }
  const order = Object.keys(LABELS);
  return groups.sort((a, b) => order.indexOf(a.action) - order.indexOf(b.action));
}

/**
 * The groups as lines for people: a heading per action, a line per kind with its keys, wrapped
 * to `columns` under the first key.
 */
export function describeChanges(groups: readonly ChangeGroup[], columns = 100): string[] {
  const lines: string[] = [];
  const width = Math.max(...groups.map((g) => g.kind.length), 0) + 2;
  let action: ChangeAction | undefined;
  for (const g of groups) {
    if (g.action !== action) lines.push(`  ${LABELS[g.action]}:`);
    action = g.action;
    const head = `    ${g.kind.padEnd(width)}`;
    let line = head;
    g.keys.forEach((key, i) => {
      const word = `${key}${i < g.keys.length - 1 ? "," : ""}`;
      if (line.length > head.length && line.length + 1 + word.length > columns) {
        lines.push(line);
        line = " ".repeat(head.length);
      }
      line += `${line.length > head.length ? " " : ""}${word}`;
    });
    lines.push(line.trimEnd());
  }
  return lines;
}
