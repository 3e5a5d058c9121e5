import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { KubecontrolError } from "../errors.js";
import { withLock } from "./lock.js";

const run = promisify(execFile);

/** The moto version the launcher's mends are written against. */
export const MOTO_VERSION = "5.2.1";

const CHECK = `import moto, flask, werkzeug, boto3, cryptography, sys; sys.exit(0 if moto.__version__ == "${MOTO_VERSION}" else 3)`;

/** True when `python` can run the launcher (moto 5.2.1, Flask, boto3, cryptography importable). */
export async function pythonHasMoto(python: string): Promise<boolean> {
  try {
    await run(python, ["-c", CHECK], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The Python that runs the launcher: $KUBECONTROL_SANDBOX_PYTHON, the cache's virtualenv, or
 * python3 if it has moto 5.2.1; otherwise sandbox/setup-python.sh makes the virtualenv (once).
 */
export async function resolvePython(
  root: string,
  cacheDir: string,
  note: (message: string) => void = () => {},
): Promise<string> {
  const override = process.env.KUBECONTROL_SANDBOX_PYTHON;
  if (override) {
    if (await pythonHasMoto(override)) return override;
    throw new KubecontrolError(
      "PREREQUISITE_MISSING",
      `KUBECONTROL_SANDBOX_PYTHON=${override} cannot import moto ${MOTO_VERSION} and Flask`,
      {
        hint: `install them: ${override} -m pip install "moto[server]==${MOTO_VERSION}", or unset KUBECONTROL_SANDBOX_PYTHON`,
      },
    );
  }
  const venvPython = path.join(cacheDir, "venv", "bin", "python");
  if (existsSync(venvPython) && (await pythonHasMoto(venvPython))) return venvPython;
  if (await pythonHasMoto("python3")) return "python3";
  // Two sandboxes starting at once (the test setup starts two) must not both build the virtualenv.
  return withLock(
    path.join(cacheDir, "setup-python.lock"),
    async () => {
      if (existsSync(venvPython) && (await pythonHasMoto(venvPython))) return venvPython;
      note(`installing moto ${MOTO_VERSION} into ${path.join(cacheDir, "venv")} (once; about a minute)`);
      return setupPython(root, cacheDir);
    },
    900_000, // pip may take minutes on a slow link
  );
}

async function setupPython(root: string, cacheDir: string): Promise<string> {
  const script = path.join(root, "sandbox", "setup-python.sh");
  try {
    const { stdout } = await run("bash", [script], {
      env: { ...process.env, KUBECONTROL_SANDBOX_CACHE: cacheDir },
      timeout: 900_000,
      maxBuffer: 16 << 20,
    });
    const python = stdout.trim().split("\n").pop() ?? "";
    if (python && (await pythonHasMoto(python))) return python;
    throw new Error(`setup-python.sh printed ${JSON.stringify(python)}, which cannot import moto`);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? "";
    const noPython = /python3: (command )?not found|No such file/.test(stderr);
    throw new KubecontrolError(
      "PREREQUISITE_MISSING",
      `the sandbox needs Python 3 with moto ${MOTO_VERSION}, and setting it up failed`,
      {
        hint: noPython
          ? "install Python 3 with venv: apt-get install -y python3 python3-venv"
          : `${stderr.split("\n").slice(-5).join("\n")}\nrun sandbox/setup-python.sh to see the whole output; it needs python3 with venv (apt-get install -y python3-venv) and PyPI`,
        cause: err,
      },
    );
  }
}
