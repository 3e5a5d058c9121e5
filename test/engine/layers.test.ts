import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Layers point down: AWS, Kubernetes, images and the store offer plain functions; steps and
// workflows live in src/engine and use them, never the other way round.

const src = path.resolve(import.meta.dirname, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** What a file imports (static and dynamic), resolved against src/. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => path.relative(src, path.resolve(path.dirname(file), s)));
}

describe("the layers", () => {
  it("under src/aws, src/kube, src/images and src/history import nothing of src/engine", () => {
    const upward = ["aws", "kube", "images", "history"].flatMap((layer) =>
      files(path.join(src, layer)).flatMap((f) =>
        imports(f)
          .filter((i) => i.startsWith(`engine${path.sep}`))
          .map((i) => `${path.relative(src, f)} → ${i}`),
      ),
    );
    expect(upward).toEqual([]);
  });

  it("keeps every step in an area folder of src/engine/steps (aws, images, kube, verify)", () => {
    const steps = path.join(src, "engine", "steps");
    const loose = readdirSync(steps, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
    expect(loose).toEqual([]);
    expect(
      readdirSync(steps, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    ).toEqual(["aws", "images", "kube", "verify"]);
  });
});
