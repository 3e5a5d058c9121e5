import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { KubeResource } from "./client.js";

/** Fields the server owns: they differ between any two reads and say nothing about the change. */
const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "generation",
  "selfLink",
];

/** An object as people compare it: no server bookkeeping, no status, Secret values hashed. */
export function comparable(o: KubeResource | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const copy = structuredClone(o) as Record<string, unknown> & KubeResource;
  delete copy.status;
  if (copy.metadata) for (const f of SERVER_METADATA) delete copy.metadata[f];
  if (copy.kind === "Secret") {
    for (const field of ["data", "stringData"]) {
      const values = copy[field] as Record<string, string> | undefined;
      if (values) copy[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, redact(v)]));
    }
  }
  return copy;
}

// A digest shows that a value changed without showing the value.
function redact(value: string): string {
  return `(redacted, sha256 ${createHash("sha256").update(value).digest("hex").slice(0, 12)})`;
}

/** A unified-style diff of two objects' YAML (`-` live, `+` desired), empty when equal. */
export function diffObjects(
  live: KubeResource | undefined,
  desired: KubeResource | undefined,
  context = 3,
): string {
  const a = live ? stringify(comparable(live), { lineWidth: 0 }).split("\n").filter(Boolean) : [];
  const b = desired ? stringify(comparable(desired), { lineWidth: 0 }).split("\n").filter(Boolean) : [];
  return diffLines(a, b, context);
}

/** Line diff by longest common subsequence, with `context` unchanged lines around each change. */
export function diffLines(a: string[], b: string[], context = 3): string {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { op: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Removals first, as unified diffs show a replaced line.
      ops.push({ op: "-", line: a[i++]! });
    } else {
      ops.push({ op: "+", line: b[j++]! });
    }
  }
  if (!ops.some((o) => o.op !== " ")) return "";
  const keep = ops.map(
    (o, k) => o.op !== " " || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.op !== " "),
  );
  const out: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (keep[k]) {
      out.push(`${o.op} ${o.line}`);
      skipped = false;
    } else if (!skipped) {
      out.push("  ...");
      skipped = true;
    }
  });
  return out.join("\n");
}
