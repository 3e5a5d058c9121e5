import { describe, expect, it } from "vitest";
import { runTrigger } from "../../src/cli/trigger.js";

// What started a run, as history records it: an explicit $KUBECONTROL_TRIGGER first (cron's lines
// set it), else a terminal means a person, and no terminal with cron's bare environment means cron.

describe("runTrigger", () => {
  it("takes $KUBECONTROL_TRIGGER when set, and refuses any other value", () => {
    expect(runTrigger({ KUBECONTROL_TRIGGER: "cron", TERM: "xterm" }, true)).toBe("cron");
    expect(runTrigger({ KUBECONTROL_TRIGGER: "person" }, false)).toBe("person");
    expect(() => runTrigger({ KUBECONTROL_TRIGGER: "robot" }, false)).toThrow(
      /KUBECONTROL_TRIGGER: expected "person" or "cron", found "robot"/,
    );
  });

  it("guesses from the terminal and the environment otherwise", () => {
    expect(runTrigger({}, true)).toBe("person");
    expect(runTrigger({ TERM: "xterm-256color" }, false)).toBe("person");
    expect(runTrigger({ PATH: "/usr/bin", HOME: "/root" }, false)).toBe("cron");
  });
});
