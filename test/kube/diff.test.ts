import { describe, expect, it } from "vitest";
import { diffLines, diffObjects } from "../../src/kube/diff.js";

describe("dry-run diffs", () => {
  it("show a Secret's change without its values", () => {
    // given a live Secret and a desired one whose password changed
    const secret = (password: string) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "db",
        namespace: "web",
        resourceVersion: "7",
        managedFields: [{ manager: "kubecontrol" }],
      },
      data: { password: Buffer.from(password).toString("base64") },
    });
    const diff = diffObjects(secret("hunter2"), secret("correct horse"));
    // then the diff says the value changed, by digest, and never shows either value
    expect(diff).toMatch(/^- {3}password: \(redacted, sha256 [0-9a-f]{12}\)$/m);
    expect(diff).toMatch(/^\+ {3}password: \(redacted, sha256 [0-9a-f]{12}\)$/m);
    expect(diff).not.toContain(Buffer.from("hunter2").toString("base64"));
    expect(diff).not.toContain(Buffer.from("correct horse").toString("base64"));
    // and server bookkeeping is no part of it
    expect(diff).not.toMatch(/resourceVersion|managedFields/);
  });

  it("are empty for equal objects and keep a little context around a change", () => {
    expect(
      diffObjects({ kind: "ConfigMap", data: { a: "1" } }, { kind: "ConfigMap", data: { a: "1" } }),
    ).toBe("");
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const changed = lines.map((l, i) => (i === 10 ? "line ten" : l));
    expect(diffLines(lines, changed, 1)).toBe("  ...\n  line 9\n- line 10\n+ line ten\n  line 11\n  ...");
  });
});
