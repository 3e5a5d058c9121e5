import { createHash } from "node:crypto";
import { ECRClient, ListImagesCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveTag } from "../../src/engine/steps/images/keep-live-image.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { pushBuild } from "../helpers/ecr.js";
import { sdkConfig } from "../helpers/sandbox.js";

// The repository keeps the newest 30 images (the company default). The image a standing colour
// runs must outlive any number of later builds, or replacement nodes could not pull it.

const KEEP = 30;
let p: E2eProject;
let ecr: ECRClient;

beforeAll(async () => {
  p = await e2eProject("kept");
  ecr = new ECRClient(sdkConfig(p.sbx));
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

/** The repository's images as tag → digest. */
async function images(): Promise<Map<string, string>> {
  const ids =
    (await ecr.send(new ListImagesCommand({ repositoryName: p.app, maxResults: 1000 }))).imageIds ?? [];
  return new Map(ids.map((i) => [i.imageTag ?? `untagged@${i.imageDigest}`, i.imageDigest!]));
}

/** `n` more builds of other commits, pushed to the app's repository as a builder would. */
async function pushBuilds(n: number, label: string): Promise<void> {
  for (let i = 0; i < n; i++)
    await pushBuild(ecr, p.app, `${label}-${i}`, createHash("sha1").update(`${label}-${i}`).digest("hex"));
}

describe("images a standing colour runs", () => {
  it(`outlive more than ${KEEP} later builds, and are let go once the colour is torn down`, async () => {
    const created = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(created.status, created.stderr).toBe(0);
    const commit = p.git("rev-parse", "HEAD");
    const before = await images();
    const digest = before.get(commit)!;
    expect(digest).toMatch(/^sha256:/);
    expect(before.get(liveTag("blue", commit))).toBe(digest);

    await pushBuilds(KEEP + 5, "later");
    const after = await images();
    expect(after.get(commit), "the live image is still in the repository").toBe(digest);
    expect(after.get(liveTag("blue", commit))).toBe(digest);
    // the others: the newest 30 builds stay, the 5 oldest went
    expect(new Set(after.values()).size).toBe(KEEP + 1);

    // a re-run finds the image and marks nothing again
    const again = await p.kubecontrol(["create", p.app, "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/ensure-image: no change/);
    expect(again.stderr).toMatch(/keep-live-image: no change/);

    const down = await p.kubecontrol(["teardown", p.app, "--colour", "blue", "--force", "--yes"]);
    expect(down.status, down.stderr).toBe(0);
    expect((await images()).has(liveTag("blue", commit))).toBe(false);
    await pushBuilds(1, "after-teardown");
    expect((await images()).has(commit), "no colour runs it any more: the oldest image goes").toBe(false);
  }, 300_000);
});
