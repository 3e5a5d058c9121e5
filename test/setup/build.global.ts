import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** CLI tests run bin/kubecontrol, which runs dist/: rebuild it when src/ is newer. */
export default function setup(): void {
  const built = path.join(root, "dist/cli/main.js");
  if (existsSync(built) && statSync(built).mtimeMs >= newest(path.join(root, "src"))) return;
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  } catch (err) {
    // tsc still emits on type errors; the test command's own type-check step reports them.
    if (!existsSync(built)) throw err;
    process.stderr.write("build: type errors above; testing what was emitted\n");
  }
}
