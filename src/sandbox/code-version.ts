import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const SKIP = new Set(["__pycache__", "node_modules", ".git"]);

function filesUnder(target: string): string[] {
  if (!existsSync(target)) return [];
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name) && !e.name.endsWith(".map"))
    .flatMap((e) => filesUnder(path.join(target, e.name)));
}

/** A hash of the contents of these files and directories: a component's code, to tell a stale process. */
export function codeVersion(sources: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of sources.flatMap(filesUnder).sort()) {
    hash.update(file).update("\u0000").update(readFileSync(file)).update("\u0000");
  }
  return hash.digest("hex").slice(0, 16);
}
