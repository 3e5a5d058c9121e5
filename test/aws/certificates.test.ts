import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ACMClient, ImportCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACM_KEY_TYPES } from "../../src/aws/account.js";
import { createAws } from "../../src/aws/create-aws.js";
import { sdkConfig, type TestSandbox, testAccessKeyId, testSandbox, uniqueName } from "../helpers/sandbox.js";

// The certificate an HTTPS listener gets, looked up as on AWS: ListCertificates lists only RSA-1024
// and RSA-2048 certificates unless asked for the other key types (the sandbox's ACM answers so),
// and a certificate covers a name by its alternative names and wildcards, not its DomainName
// alone. Of several, the one that expires last is taken.

let sbx: TestSandbox;
let dir: string;
let zone: string;
const arns: Record<string, string> = {};

/** A self-signed certificate made with openssl, imported into the sandbox's ACM; its ARN. */
async function importCert(
  label: string,
  o: { key: "rsa:2048" | "rsa:4096" | "ec"; cn: string; sans: string[]; days: number },
): Promise<string> {
  const key = path.join(dir, `${label}.key`);
  const cert = path.join(dir, `${label}.pem`);
  const keyArgs =
    o.key === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", o.key];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      ...keyArgs,
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      String(o.days),
      "-subj",
      `/CN=${o.cn}`,
      "-addext",
      `subjectAltName=${o.sans.map((s) => `DNS:${s}`).join(",")}`,
    ],
    { stdio: "ignore" },
  );
  const acm = new ACMClient(sdkConfig(sbx));
  const r = await acm.send(
    new ImportCertificateCommand({ Certificate: readFileSync(cert), PrivateKey: readFileSync(key) }),
  );
  return r.CertificateArn!;
}

beforeAll(async () => {
  sbx = await testSandbox("awsSandbox");
  dir = mkdtempSync(path.join(tmpdir(), "kc-certs-"));
  zone = `${uniqueName("certs")}.example.net`;
  arns.rsa4096 = await importCert("rsa4096", {
    key: "rsa:4096",
    cn: `big.${zone}`,
    sans: [`big.${zone}`],
    days: 90,
  });
  arns.wildcard = await importCert("wildcard", {
    key: "ec",
    cn: `*.w.${zone}`,
    sans: [`*.w.${zone}`],
    days: 90,
  });
  arns.san = await importCert("san", {
    key: "rsa:2048",
    cn: `main.${zone}`,
    sans: [`main.${zone}`, `alt.${zone}`],
    days: 90,
  });
  arns.shortLived = await importCert("short", {
    key: "rsa:2048",
    cn: `two.${zone}`,
    sans: [`two.${zone}`],
    days: 30,
  });
  arns.longLived = await importCert("long", {
    key: "rsa:2048",
    cn: `two.${zone}`,
    sans: [`two.${zone}`],
    days: 300,
  });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const certificateFor = (domain: string) =>
  createAws({
    region: sbx.region,
    endpoint: sbx.endpoint,
    credentials: { accessKeyId: testAccessKeyId(), secretAccessKey: "sandbox" },
  }).acm.certificateFor(domain);

describe("the sandbox's ACM", () => {
  it("lists only RSA-1024 and RSA-2048 certificates unless asked for other key types, as AWS does", async () => {
    const acm = new ACMClient(sdkConfig(sbx));
    const listed = async (keyTypes?: string[]) =>
      (
        (
          await acm.send(
            new ListCertificatesCommand(keyTypes ? { Includes: { keyTypes: keyTypes as never } } : {}),
          )
        ).CertificateSummaryList ?? []
      ).map((c) => c.CertificateArn);
    const byDefault = await listed();
    expect(byDefault).toContain(arns.san);
    expect(byDefault).not.toContain(arns.rsa4096);
    expect(byDefault).not.toContain(arns.wildcard);
    expect(await listed([...ACM_KEY_TYPES])).toEqual(expect.arrayContaining([arns.rsa4096, arns.wildcard]));
  });
});

describe("the certificate a listener gets", () => {
  it("is found whatever its key type (RSA-4096, ECDSA)", async () => {
    expect(await certificateFor(`big.${zone}`)).toBe(arns.rsa4096);
  });

  it("covers the name by a wildcard for one label, not two", async () => {
    expect(await certificateFor(`shop.w.${zone}`)).toBe(arns.wildcard);
    expect(await certificateFor(`a.shop.w.${zone}`)).toBeUndefined();
    expect(await certificateFor(`w.${zone}`)).toBeUndefined();
  });

  it("covers the name by a subject alternative name", async () => {
    expect(await certificateFor(`alt.${zone}`)).toBe(arns.san);
  });

  it("is the one that expires last, of several", async () => {
    expect(await certificateFor(`two.${zone}`)).toBe(arns.longLived);
  });
});
