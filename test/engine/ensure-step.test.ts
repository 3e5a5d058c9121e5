import { describe, expect, it } from "vitest";
import { toAwsError } from "../../src/aws/errors.js";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { runSteps } from "../../src/engine/runner.js";
import { ensureStep } from "../../src/engine/steps/aws/ensure-step.js";
import { KubecontrolError } from "../../src/errors.js";
import type { KubecontrolEvent } from "../../src/io/events.js";
import { TAG } from "../../src/plan/aws.js";

// An in-memory resource (a "widget" with a size and tags) stands for an AWS one: the helper's
// decisions (create, adopt, change, refuse, wait for a deletion) need no service to be tested.
interface Widget {
  name: string;
  size: number;
  tags: Record<string, string>;
  state: "active" | "deleting";
}

const planned = {
  id: "widget/main",
  kind: "widget",
  name: "kc-shop-blue-main",
  tags: { [TAG.app]: "shop", [TAG.colour]: "blue", team: "web" },
};

/** An answer lost on the way back: the widget was made, the caller never heard. */
const lost = () =>
  toAwsError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "w", "CreateWidget", "w");

const exists = () =>
  toAwsError(
    Object.assign(new Error("name taken"), { name: "WidgetExists", $metadata: { httpStatusCode: 400 } }),
    "w",
    "CreateWidget",
    "w",
  );

/** A widget of the planned name with these tags. */
const named = (tags: Record<string, string>, size = 1, state: Widget["state"] = "active"): Widget => ({
  name: planned.name,
  size,
  tags,
  state,
});

function world(initial?: Widget) {
  const w = {
    widget: initial as Widget | undefined,
    creates: 0,
    changes: [] as string[],
    /** Finds left until a deleting widget is gone. */
    goneAfter: 2,
    loseAnswer: false,
  };
  const step = ensureStep({
    r: planned,
    env: { runId: "run-1", pace: { pollMs: 1, maxPollMs: 1 } },
    description: `widget ${planned.name}`,
    dependsOn: [],
    timeoutMs: 10_000,
    async find() {
      if (w.widget?.state === "deleting" && --w.goneAfter <= 0) w.widget = undefined;
      return w.widget && { ...w.widget, tags: { ...w.widget.tags } };
    },
    tagsOf: (x: Widget) => x.tags,
    leaving: (x) => x.state === "deleting",
    diff: (_ctx, x) => ({ size: x?.size !== 3 }),
    async create(_ctx, tags) {
      if (w.widget) throw exists();
      w.creates++;
      w.widget = { name: planned.name, size: 1, tags, state: "active" };
      if (w.loseAnswer) throw lost();
      return { ...w.widget };
    },
    alreadyExists: ["WidgetExists"],
    async change(_ctx, _x, d) {
      if (d.size) {
        w.changes.push("size");
        w.widget!.size = 3;
      }
    },
    async tag(_ctx, _x, tags) {
      w.changes.push(`tags ${Object.keys(tags).join(",")}`);
      Object.assign(w.widget!.tags, tags);
    },
    ref: (x) => ({ name: x.name }),
    summary: (ref) => ref.name,
  });
  return { w, step };
}

async function run(step: ReturnType<typeof world>["step"]) {
  const events: KubecontrolEvent[] = [];
  const report = await runSteps([step], { emit: (e) => events.push(e) });
  const checked = events.find((e) => e.type === "step.checked");
  return { report, reason: checked && "reason" in checked ? checked.reason : undefined };
}

describe("ensureStep", () => {
  it("creates what is missing with the plan's tags and the run, then changes what the create does not set", async () => {
    // Given no widget
    const { w, step } = world();
    // When the step runs
    const { report, reason } = await run(step);
    // Then it was missing, made once with the plan's tags, and sized as planned
    expect(reason).toBe("missing");
    expect(report.ok).toBe(true);
    expect(w.creates).toBe(1);
    expect(w.widget).toMatchObject({ size: 3, tags: { ...planned.tags, [TAG.createdBy]: "run-1" } });
    expect(report.results.get(step.name)).toEqual({ name: planned.name });
    expect(report.steps[0]?.summary).toBe(`made ${planned.name}`);
    // ...and a second run finds it in place and changes nothing
    const again = await run(step);
    expect(again.reason).toBe("in place");
    expect(again.report.steps[0]?.summary).toBe(`found ${planned.name}`);
    expect(w.creates).toBe(1);
  });

  it("changes what differs, the reason naming each change, tags included", async () => {
    // Given the app's widget of the wrong size, one of the plan's tags missing
    const { w, step } = world(named({ [TAG.app]: "shop", [TAG.colour]: "blue" }));
    // When the step runs
    const { report, reason } = await run(step);
    // Then it says what differs and puts both right, making nothing
    expect(reason).toBe("differs: size, tags");
    expect(report.ok).toBe(true);
    expect(w.changes).toEqual(["tags team", "size"]);
    expect(w.creates).toBe(0);
  });

  it("refuses another app's resource (NOT_OWNED, exit 6) and changes nothing", async () => {
    // Given a widget of the planned name that another app's tags claim
    const { w, step } = world(named({ [TAG.app]: "other", [TAG.colour]: "blue" }));
    // When the step runs
    const { report } = await run(step);
    // Then it fails NOT_OWNED, and the widget is as it was
    const error = report.steps[0]?.error;
    expect(error).toBeInstanceOf(KubecontrolError);
    expect((error as KubecontrolError).code).toBe("NOT_OWNED");
    expect(exitCodeFor((error as KubecontrolError).code)).toBe(6);
    expect(w.changes).toEqual([]);
    expect(w.widget).toMatchObject({ size: 1, tags: { [TAG.app]: "other" } });
  });

  it("adopts what a create whose answer was lost made, never making it twice", async () => {
    // Given no widget, and a create whose answer is lost after the widget was made
    const { w, step } = world();
    w.loseAnswer = true;
    // When the step runs
    const { report } = await run(step);
    // Then the widget it made is found and adopted, and still sized as planned
    expect(report.ok).toBe(true);
    expect(w.creates).toBe(1);
    expect(w.widget?.size).toBe(3);
  });

  it("waits until a widget being deleted is gone, then creates it anew", async () => {
    // Given the app's widget being deleted
    const { w, step } = world(named(planned.tags, 3, "deleting"));
    // When the step runs
    const { report, reason } = await run(step);
    // Then it says so, waits, and makes a new one
    expect(reason).toBe("being deleted");
    expect(report.ok).toBe(true);
    expect(w.creates).toBe(1);
    expect(w.widget).toMatchObject({ state: "active", size: 3 });
  });
});
