import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { codeVersion } from "../../src/sandbox/code-version.js";

const dir = mkdtempSync(path.join(tmpdir(), "kc-code-version-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a component's code version", () => {
  it("changes with the content of its sources, not with caches beside them", () => {
    writeFileSync(path.join(dir, "launcher.py"), "print(1)\n");
    const before = codeVersion([dir]);
    mkdirSync(path.join(dir, "__pycache__"), { recursive: true });
    writeFileSync(path.join(dir, "__pycache__", "launcher.pyc"), "bytes");
    expect(codeVersion([dir])).toBe(before);
    writeFileSync(path.join(dir, "launcher.py"), "print(2)\n");
    expect(codeVersion([dir])).not.toBe(before);
  });
});
