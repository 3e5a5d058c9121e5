import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  ECRClient,
  ListImagesCommand,
  PutLifecyclePolicyCommand,
} from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecyclePolicy } from "../../src/engine/steps/aws/ensure-ecr-repository.js";
import { pushBuild } from "../helpers/ecr.js";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

// ECR applies a repository's lifecycle policy as AWS evaluates one: each rule counts every image
// it selects, newest first, but never expires an image a higher-priority rule selects.

let sbx: TestSandbox;
let ecr: ECRClient;
const repositories: string[] = [];

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  ecr = new ECRClient(sdkConfig(sbx));
});

afterAll(async () => {
  for (const name of repositories)
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true })).catch(() => undefined);
});

async function repository(keep: number): Promise<string> {
  const name = uniqueName("kc-lifecycle");
  repositories.push(name);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  await ecr.send(
    new PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: lifecyclePolicy(keep) }),
  );
  return name;
}

/** Pushes build `build`, tagged `tag` (default: the build's name). */
const push = (name: string, build: string, tag = build) => pushBuild(ecr, name, build, tag);

async function tags(name: string): Promise<string[]> {
  const ids = (await ecr.send(new ListImagesCommand({ repositoryName: name }))).imageIds ?? [];
  return ids.flatMap((i) => (i.imageTag && !i.imageTag.startsWith("kc-live-") ? [i.imageTag] : [])).sort();
}

describe("ECR lifecycle policies in the sandbox", () => {
  it("keep an old live image beyond the count: the newest others fill the count", async () => {
    const name = await repository(3);
    await push(name, "a");
    await push(name, "a", "kc-live-blue-a");
    for (const t of ["b", "c", "d", "e"]) await push(name, t);
    expect(await tags(name)).toEqual(["a", "c", "d", "e"]);
  });

  it("count a live image among the newest towards the count, as ECR does", async () => {
    const name = await repository(3);
    for (const t of ["a", "b", "c"]) await push(name, t);
    await push(name, "c", "kc-live-blue-c");
    for (const t of ["d", "e"]) await push(name, t);
    // c is live and among the newest three: it counts, so only d and e stay besides it
    expect(await tags(name)).toEqual(["c", "d", "e"]);
  });
});
