import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfig, type TestSandbox, testSandbox, uniqueName } from "../helpers/sandbox.js";

const run = promisify(execFile);
let sbx: TestSandbox;
let ecr: ECRClient;
const repository = uniqueName("kc-reg");
const work = mkdtempSync(path.join(tmpdir(), "kc-registry-test-"));
// buildah as an unprivileged CI user would run it: no daemon, vfs storage, chroot isolation.
const buildahEnv = {
  ...process.env,
  STORAGE_DRIVER: "vfs",
  BUILDAH_ISOLATION: "chroot",
  CONTAINERS_STORAGE_CONF: path.join(work, "storage.conf"),
};

beforeAll(async () => {
  sbx = await testSandbox();
  ecr = new ECRClient(sdkConfig(sbx));
  writeFileSync(
    buildahEnv.CONTAINERS_STORAGE_CONF,
    `[storage]\ndriver = "vfs"\nrunroot = "${work}/run"\ngraphroot = "${work}/graph"\n`,
  );
});

afterAll(async () => {
  await ecr?.send(new DeleteRepositoryCommand({ repositoryName: repository, force: true })).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

async function ecrLogin(): Promise<{ user: string; password: string; registry: string }> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData![0]!;
  const [user, password] = Buffer.from(data.authorizationToken!, "base64").toString().split(":") as [
    string,
    string,
  ];
  return { user, password, registry: new URL(data.proxyEndpoint!).host };
}

describe("the registry behind ECR", () => {
  it("takes a buildah push and shows the image in DescribeImages with the registry's digest", async () => {
    const repo = await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    const uri = repo.repository!.repositoryUri!;
    const login = await ecrLogin();
    expect(uri.startsWith(`${login.registry}/`)).toBe(true);
    writeFileSync(path.join(work, "hello.txt"), `hello ${repository}\n`);
    writeFileSync(path.join(work, "Containerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
    await run("buildah", ["bud", "-q", "-t", `${uri}:v1`, work], { env: buildahEnv });
    const digestFile = path.join(work, "digest");
    await run(
      "buildah",
      [
        "push",
        "--creds",
        `${login.user}:${login.password}`,
        "--cert-dir",
        path.join(sbx.dir, "registry", "cert-dir"),
        "--digestfile",
        digestFile,
        `${uri}:v1`,
      ],
      { env: buildahEnv },
    );
    const pushed = readFileSync(digestFile, "utf8").trim();
    // the push has returned: ECR already knows the image, by the registry's digest
    const images = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
    expect(images.imageDetails?.map((d) => [d.imageDigest, d.imageTags])).toEqual([[pushed, ["v1"]]]);
  });

  it("refuses a wrong ECR token and a repository ECR does not have", async () => {
    const login = await ecrLogin();
    const wrong = await fetch(`http://${login.registry}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from("AWS:not-the-token").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    const missing = await fetch(`http://${login.registry}/v2/kc-no-such-repo/tags/list`, {
      headers: { authorization: `Basic ${Buffer.from(`AWS:${login.password}`).toString("base64")}` },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("NAME_UNKNOWN");
  });
});
