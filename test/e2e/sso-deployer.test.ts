import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { ensureRole, sdkConfig, uniqueName } from "../helpers/sandbox.js";

// A deployer signed in through IAM Identity Center (SSO) works in an assumed-role session of a
// role under /aws-reserved/sso.amazonaws.com/. The session's ARN does not show the role's path;
// EKS refuses an access entry for the path-less ARN ("invalid principal"), as the sandbox does.
// kubecontrol reads the role's real ARN from IAM and names it in the deployer's access entry.

let p: E2eProject;
let roleArn: string;
let session: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

beforeAll(async () => {
  p = await e2eProject("sso");
  const name = uniqueName("AWSReservedSSO_Deployers");
  roleArn = await ensureRole(p.sbx, name, "/aws-reserved/sso.amazonaws.com/us-east-1/");
  const assumed = await new STSClient(sdkConfig(p.sbx)).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "alice@example.com" }),
  );
  session = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
}, 120_000);

afterAll(() => p?.cleanup(), 180_000);

describe("a deployer in an IAM Identity Center session", () => {
  it("creates the app: its access entry names the role's ARN with its path", async () => {
    // given a session whose caller identity is the assumed role, path not shown
    const sts = new STSClient({ ...sdkConfig(p.sbx), credentials: session });
    const caller = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
    expect(caller).toMatch(
      /^arn:aws:sts::\d+:assumed-role\/AWSReservedSSO_Deployers-[0-9a-f]+\/alice@example\.com$/,
    );
    expect(roleArn).toContain(":role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_Deployers-");

    // when the deployer creates the app
    const created = await p.kubecontrol(["create", p.app, "--yes"], {
      accessKeyId: session.accessKeyId,
      env: { AWS_SECRET_ACCESS_KEY: session.secretAccessKey, AWS_SESSION_TOKEN: session.sessionToken },
    });

    // then it succeeds, and the deployer's access entry is for the role itself, path included
    expect(created.status, created.stderr).toBe(0);
    const entries = (
      (await awsCli(p.sbx, ["eks", "list-access-entries", "--cluster-name", `kc-${p.app}-blue`])) as {
        accessEntries: string[];
      }
    ).accessEntries;
    expect(entries).toContain(roleArn);
  }, 240_000);

  it("EKS refuses an access entry for the role's ARN without its path, as on AWS", async () => {
    const pathless = roleArn.replace(/role\/.*\//, "role/");
    const refused = await awsCli(p.sbx, [
      "eks",
      "create-access-entry",
      "--cluster-name",
      `kc-${p.app}-blue`,
      "--principal-arn",
      pathless,
    ]).catch((err: Error) => err);
    expect(String(refused)).toMatch(/InvalidParameterException.*invalid principal/s);
  });
});
