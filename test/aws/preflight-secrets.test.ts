import { randomBytes } from "node:crypto";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preflightAws } from "../../src/engine/preflight/preflight.js";
import { KubecontrolError } from "../../src/errors.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import { sdkConfig, type TestSandbox, testSandbox } from "../helpers/sandbox.js";
import { planFor, testAws, uniqueWebapp } from "./stack-fixture.js";

// Preflight of envFromSecrets against the sandbox's Secrets Manager: every reference must
// resolve to a key of a JSON object; problems name the secret and key and never a value.

let sbx: TestSandbox;
let sm: SecretsManagerClient;
const made: string[] = [];
const secretValue = `v-${randomBytes(10).toString("hex")}`;

async function secret(name: string, value: { string?: string; binary?: Uint8Array }): Promise<void> {
  await sm.send(
    new CreateSecretCommand({
      Name: name,
      ...(value.string !== undefined ? { SecretString: value.string } : { SecretBinary: value.binary }),
    }),
  );
  made.push(name);
}

function reading(app: ResolvedKubeApp, refs: Record<string, string>): ResolvedKubeApp {
  const web = app.components.web!;
  const worker = app.components.worker!;
  return {
    ...app,
    components: {
      web: { ...web, containers: web.containers.map((c) => ({ ...c, envFromSecrets: refs })) },
      worker: { ...worker, containers: worker.containers.map((c) => ({ ...c, envFromSecrets: {} })) },
    },
  };
}

async function preflightError(
  app: ResolvedKubeApp,
  t: ReturnType<typeof testAws>,
): Promise<KubecontrolError> {
  try {
    await preflightAws(planFor(app), t.aws, app);
  } catch (err) {
    if (err instanceof KubecontrolError) return err;
    throw err;
  }
  throw new Error("expected preflight to fail");
}

beforeAll(async () => {
  sbx = await testSandbox();
  sm = new SecretsManagerClient(sdkConfig(sbx));
});

afterAll(async () => {
  for (const name of made)
    await sm
      .send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }))
      .catch(() => {});
});

describe("preflight of envFromSecrets", () => {
  it("passes when every key is there, reading only", async () => {
    const app = await uniqueWebapp();
    await secret(`${app.name}/db`, { string: JSON.stringify({ password: secretValue, port: 5432 }) });
    const t = testAws(sbx);
    await preflightAws(
      planFor(app),
      t.aws,
      reading(app, { DB_PASSWORD: `${app.name}/db#password`, DB_PORT: `${app.name}/db#port` }),
    );
    expect((await t.counts()).mutating).toEqual({});
  });

  it("names every secret and key that does not resolve, and never a value", async () => {
    // given one secret without the key, one whose key is null, one not JSON, one binary, one missing
    const app = await uniqueWebapp();
    const n = app.name;
    await secret(`${n}/db`, { string: JSON.stringify({ user: secretValue, empty: null }) });
    await secret(`${n}/text`, { string: secretValue });
    await secret(`${n}/bin`, { binary: new TextEncoder().encode(secretValue) });
    const t = testAws(sbx);

    // when preflight runs
    const err = await preflightError(
      reading(app, {
        A: `${n}/db#password`,
        B: `${n}/db#empty`,
        C: `${n}/text#k`,
        D: `${n}/bin#k`,
        E: `${n}/absent#k`,
      }),
      t,
    );

    // then it lists each problem with the secret, the key and the variable reading it
    expect(err.code).toBe("PREFLIGHT_FAILED");
    expect(err.message).toContain(`secret ${n}/db has no JSON key password (envFromSecrets of web.web A)`);
    expect(err.message).toContain(`secret ${n}/db has no JSON key empty (it is null)`);
    expect(err.message).toContain(`secret ${n}/text does not hold a JSON object: its value is not JSON`);
    expect(err.message).toContain(`secret ${n}/bin does not hold a JSON object: it holds a binary value`);
    expect(err.message).toContain(`secret ${n}/absent does not exist`);
    expect(err.hint).toContain(`add the key password to the secret ${n}/db`);
    // and no value in the message, the hint or the details
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain(secretValue);
    // and nothing was changed; a missing secret was never read
    const counts = await t.counts();
    expect(counts.mutating).toEqual({});
    expect(counts.calls["secretsmanager:GetSecretValue"]).toBe(3);
  });
});
