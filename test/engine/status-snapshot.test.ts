import { describe, expect, it } from "vitest";
import { parseStatusSnapshot } from "../../src/engine/observe/status-snapshot.js";
import type { KubecontrolError } from "../../src/errors.js";
import { appStatus } from "../helpers/console.js";

// A hostile snapshot for `status --from` and `console --snapshot`: every bad file is refused as
// CONFIG_INVALID naming the file and the field, never let through to crash the renderer or write
// terminal escapes.

const WHERE = "--from fleet.json";
const app = (o: Record<string, unknown> = {}) => ({
  app: "webapp",
  health: "healthy",
  problems: [],
  readAt: 1_764_900_000_000,
  ...o,
});

function refusal(doc: unknown): KubecontrolError | undefined {
  try {
    parseStatusSnapshot(typeof doc === "string" ? doc : JSON.stringify(doc), WHERE);
    return undefined;
  } catch (err) {
    return err as KubecontrolError;
  }
}

describe("a status snapshot", () => {
  it("reads what status -o json prints", () => {
    const colour = {
      colour: "blue",
      cluster: { name: "kc-webapp-blue", status: "ACTIVE", tags: {}, createdAt: 1 },
      record: { weight: 100, ttl: 60 },
    };
    const doc = {
      apps: [app({ colours: { blue: colour, green: { colour: "green" } }, dnsName: "w.example.com" })],
    };
    expect(parseStatusSnapshot(JSON.stringify(doc), WHERE)).toHaveLength(1);
    // the console's and the benchmark's recorded fleet
    const fleet = [
      appStatus("api", {
        health: "deploying",
        live: "green",
        version: "2222222222bb",
        at: 1,
        lease: "carol@deploy-1",
      }),
      appStatus("batch", { health: "absent", at: 1, problems: ["nothing stands\nat all"] }),
    ];
    expect(parseStatusSnapshot(JSON.stringify({ apps: fleet }), WHERE)).toHaveLength(2);
  });

  it("refuses an app name that is not an app's name (escapes, a path)", () => {
    for (const name of ["../../etc/passwd", "\u001b]0;pwned\u0007web", "Web App"])
      expect(refusal({ apps: [app({ app: name })] }), name).toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringMatching(/^--from fleet\.json: apps\[0\]\.app: expected an app's name/),
      });
  });

  it("refuses terminal escapes in any text, naming the field", () => {
    const esc = "\u001b[2J\u001b[31mred";
    expect(refusal({ apps: [app({ problems: [esc] })] })).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/apps\[0\]\.problems\[0\]: .*control character/),
    });
    expect(refusal({ apps: [app({ error: esc })] })?.message).toMatch(
      /apps\[0\]\.error: .*control character/,
    );
  });

  it("refuses fields of the wrong type instead of failing in the renderer", () => {
    expect(refusal({ apps: [app({ colours: "blue" })] })).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/apps\[0\]\.colours: expected/),
    });
    expect(refusal({ apps: [app({ colours: { blue: 7 } })] })?.message).toMatch(
      /apps\[0\]\.colours\.blue: expected/,
    );
    expect(
      refusal({ apps: [app({ colours: { blue: { colour: "blue", record: { weight: "100" } } } })] })?.message,
    ).toMatch(/apps\[0\]\.colours\.blue\.record\.weight: expected/);
    expect(refusal({ apps: [app({ problems: [1] })] })?.message).toMatch(
      /apps\[0\]\.problems\[0\]: expected/,
    );
    expect(refusal({ apps: [app({ live: 5 })] })?.message).toMatch(/apps\[0\]\.live: expected/);
  });

  it("refuses a document nested deeper than a status can be, and a huge one, with what it expects", () => {
    const deep = `{"apps":[{"app":"webapp","health":"healthy","problems":[],"readAt":1,"x":${"[".repeat(5000)}${"]".repeat(5000)}}]}`;
    expect(refusal(deep)).toMatchObject({ code: "CONFIG_INVALID", message: expect.stringMatching(/nested/) });
    const huge = JSON.stringify({ apps: [app({ junk: "x".repeat(65 * 1024 * 1024) })] });
    expect(refusal(huge)).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/larger than/),
    });
  });
});
