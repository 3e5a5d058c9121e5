import { describe, expect, it } from "vitest";
import { resumedOptions } from "../../src/cli/commands/resume.js";

// resume continues a run with the flags it recorded; these are the recorded options as flags.

describe("the flags resume passes on", () => {
  it("gives an update its --keep-old and an explicit --drain back", () => {
    expect(resumedOptions({ keepOld: true, drainMs: 90_000 })).toEqual({
      force: false,
      keepOld: true,
      adopt: false,
      drain: "90s",
    });
  });

  it("does not turn the drain of an update that kept its old colour for the spec into --drain, which would remove it", () => {
    expect(resumedOptions({ keepOld: false, drainMs: 0, keepForMs: 3_600_000 })).not.toHaveProperty("drain");
  });

  it("reads runs recorded before options were kept as no flags", () => {
    expect(resumedOptions(null)).toEqual({ force: false, keepOld: false, adopt: false });
  });
});
