import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * A throwaway PostgreSQL server for tests: initdb once into a cached template (per server
 * version), then for each server a copy of it in a temporary directory, started with pg_ctl on
 * a Unix socket in that directory and a free TCP port on 127.0.0.1, and stopped at the end.
 * PostgreSQL refuses to run as root: under root the server runs as the `postgres` system user
 * (made by Debian's package) through runuser, in a directory it owns.
 *
 * Tests reach it as a login role with a password over TCP, as a fleet's hosts would.
 */

const run = promisify(execFile);

/** KUBECONTROL_SKIP_POSTGRES=1 leaves the PostgreSQL store's tests out (say so when you use it). */
export const skipPostgres = process.env.KUBECONTROL_SKIP_POSTGRES === "1";

const DEBIAN_ROOT = "/usr/lib/postgresql";
const PREFIX = "kc-pg-";

export interface PostgresServer {
  port: number;
  socketDir: string;
  /** The login role the URLs use (owner of the databases made by createDatabase). */
  user: string;
  password: string;
  /** A postgres:// URL of a database of this server, with the role's password in it. */
  url(database: string): string;
  /** Makes a new empty database owned by the role and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the server's superuser (over the socket) in a database; its rows. */
  admin(sql: string, database?: string): Promise<Record<string, unknown>[]>;
  /** Stops the server (closing every connection), waits `downMs`, and starts it again on the same port. */
  outage(downMs: number): Promise<void>;
  stop(): Promise<void>;
  /** How the start went, for timing reports. */
  timings: { templateMs: number | null; startMs: number };
}

/** The directory of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<version>/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  if (existsSync(DEBIAN_ROOT)) {
    const versions = readdirSync(DEBIAN_ROOT)
      .filter((v) => existsSync(path.join(DEBIAN_ROOT, v, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(DEBIAN_ROOT, versions[0], "bin");
  }
  try {
    const found = execFileSync("sh", ["-c", "command -v pg_ctl"], { encoding: "utf8" }).trim();
    if (found && existsSync(path.join(path.dirname(found), "initdb"))) return path.dirname(found);
  } catch {}
  return undefined;
}

/** The user the server runs as: ourselves, or `postgres` when we are root. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { name: "postgres", uid, gid };
  } catch {
    throw new Error(
      "running as root, and there is no `postgres` user to run the test PostgreSQL server as " +
        "(PostgreSQL refuses to run as root): install the server with sandbox/setup-apt.sh, " +
        "or set KUBECONTROL_SKIP_POSTGRES=1 to leave out the PostgreSQL store's tests",
    );
  }
}

async function asServer(
  user: ReturnType<typeof serverUser>,
  file: string,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  return user ? run("runuser", ["-u", user.name, "--", file, ...args]) : run(file, args);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes servers of test processes that died without stopping them: a server whose directory
 * is gone notices within a minute that its lock file is gone and shuts down.
 */
function sweepOrphans(bin: string, user: ReturnType<typeof serverUser>): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(path.join(dir, "owner"), "utf8"));
    } catch {}
    // No owner yet: being made right now.
    if (!owner || pidAlive(owner)) continue;
    try {
      if (existsSync(path.join(dir, "data", "postmaster.pid"))) {
        const args = ["-D", path.join(dir, "data"), "-m", "immediate", "-s", "stop"];
        if (user) execFileSync("runuser", ["-u", user.name, "--", path.join(bin, "pg_ctl"), ...args]);
        else execFileSync(path.join(bin, "pg_ctl"), args);
      }
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A cached initdb'd data directory for this server version; made once (about a second). */
async function template(
  bin: string,
  user: ReturnType<typeof serverUser>,
): Promise<{ dir: string; madeInMs: number | null }> {
  const cacheRoot = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"),
    "kubecontrol",
    "postgres",
  );
  const version = path.basename(path.dirname(bin)) || "path";
  const dir = path.join(cacheRoot, `template-${version}`);
  if (existsSync(path.join(dir, "PG_VERSION"))) return { dir, madeInMs: null };
  const t0 = Date.now();
  mkdirSync(cacheRoot, { recursive: true });
  // initdb runs as the server's user, in a directory it owns; the result is copied into the cache.
  const work = mkdtempSync(path.join(tmpdir(), `${PREFIX}initdb-`));
  writeFileSync(path.join(work, "owner"), String(process.pid));
  try {
    if (user) chownSync(work, user.uid, user.gid);
    await asServer(user, path.join(bin, "initdb"), [
      "-D",
      path.join(work, "data"),
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    const partial = `${dir}.tmp-${process.pid}`;
    await run("cp", ["-a", path.join(work, "data"), partial]);
    try {
      renameSync(partial, dir);
    } catch {
      // Another test process made it first.
      rmSync(partial, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { dir, madeInMs: Date.now() - t0 };
}

/**
 * Starts a throwaway server. Fails with what to do when PostgreSQL's server binaries are not
 * installed (check `skipPostgres` first: only KUBECONTROL_SKIP_POSTGRES=1 leaves the tests out).
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      `PostgreSQL's server (initdb, pg_ctl) is not installed: looked in ${DEBIAN_ROOT}/<version>/bin and on PATH. ` +
        "Install it with sandbox/setup-apt.sh as root (scripts/setup runs it), " +
        "or set KUBECONTROL_SKIP_POSTGRES=1 to leave out the PostgreSQL store's tests",
    );
  }
  const user = serverUser();
  sweepOrphans(bin, user);
  const tpl = await template(bin, user);
  const t1 = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), PREFIX));
  writeFileSync(path.join(dir, "owner"), String(process.pid));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  // cp -a keeps the template's owner (the server's user) when we are root.
  await run("cp", ["-a", tpl.dir, data]);
  const pgCtl = path.join(bin, "pg_ctl");
  let port = 0;
  let options = "";
  const start = () =>
    asServer(user, pgCtl, [
      "-D",
      data,
      "-l",
      path.join(dir, "log"),
      "-w",
      "-t",
      "60",
      "-s",
      "-o",
      options,
      "start",
    ]);
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    options = [
      `-k ${dir}`,
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c shared_buffers=16MB",
      "-c max_connections=80",
      // Tests check the order in which transactions committed.
      "-c track_commit_timestamp=on",
    ].join(" ");
    try {
      await start();
      break;
    } catch (err) {
      const log = readFileSync(path.join(dir, "log"), { encoding: "utf8", flag: "a+" });
      if (attempt < 3 && /could not bind|already in use/i.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `the test PostgreSQL server did not start: ${(err as Error).message}\n${log.slice(-2000)}`,
      );
    }
  }
  const { default: pg } = await import("pg");
  const admin = async (sql: string, database = "postgres") => {
    const client = new pg.Client({ host: dir, port, user: "postgres", database });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const role = "kubecontrol";
  // Characters a URL must percent-encode, so the store's handling of them is exercised.
  const password = `pw/${randomBytes(6).toString("hex")}@:x`;
  await admin(`CREATE ROLE ${role} LOGIN CREATEDB PASSWORD '${password}'`);
  const url = (database: string) =>
    `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let made = 0;
  return {
    port,
    socketDir: dir,
    user: role,
    password,
    url,
    admin,
    async createDatabase(name = `db${++made}_${process.pid}`) {
      await admin(`CREATE DATABASE ${name} OWNER ${role}`);
      return url(name);
    },
    async outage(downMs: number) {
      // A fast shutdown closes every connection, as a server restart or failover would.
      await asServer(user, pgCtl, ["-D", data, "-m", "fast", "-s", "-w", "stop"]);
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      try {
        await asServer(user, pgCtl, ["-D", data, "-m", "immediate", "-s", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    timings: { templateMs: tpl.madeInMs, startMs: Date.now() - t1 },
  };
}
