import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { mutatingCalls } from "../helpers/e2e-runs.js";
import { testAccessKeyId } from "../helpers/sandbox.js";

// CodeBuild fetches the source itself, over https only. An app built by CodeBuild whose remote is
// SSH is refused before anything is made: no role, no project, no stack.

let p: E2eProject;

beforeAll(async () => {
  p = await e2eProject("cbssh", (spec) => spec.replace(/image: \{/, 'image: { builder: "codebuild",'));
  p.git("remote", "add", "origin", "git@github.com:example/hello.git");
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

describe("create of an app CodeBuild builds from an SSH remote", () => {
  it("is refused (exit 5) with the remote's https form, before any change", async () => {
    const key = testAccessKeyId();
    const r = await p.kubecontrol(["create", p.app, "--yes"], { accessKeyId: key });
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toContain("CodeBuild cannot fetch");
    expect(r.stderr).toContain("over SSH (git@github.com:example/hello.git)");
    expect(r.stderr).toContain("https://github.com/example/hello.git");
    expect(await mutatingCalls(p.sbx, key)).toEqual({});
  }, 120_000);
});
