import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KubecontrolError } from "../../src/errors.js";
import { loadSpecFile } from "../../src/spec/loader.js";

const dir = path.resolve(import.meta.dirname, "../fixtures/invalid");
const fixtures = readdirSync(dir).filter((f) => f.endsWith(".ts"));

/** Each fixture says, in its header, which field is wrong and what the message must say. */
function expectation(file: string): { field: string; message: string } {
  const text = readFileSync(path.join(dir, file), "utf8");
  const field = /^\/\/ expect-field: (.+)$/m.exec(text)?.[1];
  const message = /^\/\/ expect-message: (.+)$/m.exec(text)?.[1];
  if (!field || !message) throw new Error(`${file} has no expect-field / expect-message header`);
  return { field, message };
}

describe("malformed KubeApp specs", () => {
  it("has at least 30 fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
  });

  it.each(fixtures)("%s is rejected, naming the file and the field", async (file) => {
    const { field, message } = expectation(file);
    const error = await loadSpecFile(path.join(dir, file), { cache: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KubecontrolError);
    const err = error as KubecontrolError;
    expect(["SPEC_INVALID", "SPEC_LOAD"]).toContain(err.code);
    expect(err.message).toContain(file);
    if (field !== "(load)") expect(err.message).toContain(`${field}:`);
    expect(err.message).toContain(message);
  });
});
