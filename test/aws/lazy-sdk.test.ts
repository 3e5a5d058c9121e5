import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/apps.js";

// The CLI's start-up must not load eleven SDK packages: they are imported with import() on a
// client's first call. A value import (not `import type`) anywhere in src/aws or the AWS steps
// would load one eagerly.
describe("the AWS SDK packages", () => {
  it("are imported only lazily, by the clients that use them", () => {
    const dirs = ["src/aws", "src/engine/steps/aws"].map((d) => path.join(repoRoot, d));
    const eager: string[] = [];
    for (const dir of dirs) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
        const text = readFileSync(path.join(dir, file), "utf8");
        for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*from\s+"(@aws-sdk\/[^"]+|@smithy\/[^"]+)"/gm))
          eager.push(`${file}: ${m[1]}`);
      }
    }
    expect(eager).toEqual([]);
  });
});
