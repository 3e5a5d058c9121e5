import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { KubecontrolError } from "../../errors.js";

const run = promisify(execFile);

/**
 * A server certificate for 127.0.0.1 and localhost signed by the sandbox CA (made once, kept in
 * `dir`), so clients that trust the CA (NODE_EXTRA_CA_CERTS, buildah --cert-dir) verify it.
 */
export async function loopbackCertificate(
  caDir: string,
  dir: string,
): Promise<{ cert: string; key: string }> {
  const certFile = `${dir}/loopback.pem`;
  const keyFile = `${dir}/loopback.key`;
  // The key is the sandbox's alone: 0700 directory, 0600 key (openssl writes it under the umask).
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if (existsSync(keyFile)) await chmod(keyFile, 0o600);
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const extFile = `${dir}/loopback.ext`;
    await writeFile(
      extFile,
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n",
    );
    try {
      await writeFile(keyFile, "", { mode: 0o600 });
      await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
      await chmod(keyFile, 0o600);
      await run("openssl", [
        "req",
        "-new",
        "-key",
        keyFile,
        "-subj",
        "/CN=127.0.0.1",
        "-out",
        `${dir}/loopback.csr`,
      ]);
      await run("openssl", [
        "x509",
        "-req",
        "-in",
        `${dir}/loopback.csr`,
        "-CA",
        `${caDir}/ca.pem`,
        "-CAkey",
        `${caDir}/ca.key`,
        "-set_serial",
        String(Date.now()),
        "-days",
        "395",
        "-extfile",
        extFile,
        "-out",
        certFile,
      ]);
    } catch (err) {
      throw new KubecontrolError(
        "PREREQUISITE_MISSING",
        `could not issue the sandbox's loopback certificate: ${String(err)}`,
        {
          hint: "install openssl (apt-get install -y openssl)",
          cause: err,
        },
      );
    }
  }
  return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
}
