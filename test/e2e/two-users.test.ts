import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "../helpers/apps.js";
import { type E2eProject, e2eProject } from "../helpers/e2e-project.js";
import { type HistoryRun, mutatingCalls, spawnCli } from "../helpers/e2e-runs.js";
import { gitIn } from "../helpers/git.js";
import { type TestSandbox, testAccessKeyId } from "../helpers/sandbox.js";

// End to end: two real Unix users, in the deployers group, deploy one app in turn through the
// shared store, each from a checkout of their own (git refuses a repository another user owns),
// with the state directory made as README's "The shared host" says. The app's source is a git
// remote, so its versions resolve in the mirror kubecontrol keeps in the state directory: made
// by the first user, fetched into by the second. The image is built first by root, so the
// users' creates find it in ECR (rootless buildah is not what this test is about).

const GROUP = "kcdeployers";
const ALICE = "kcalice";
const BOB = "kcbob";

function skipReason(): string | undefined {
  if (process.platform !== "linux") return "needs Linux (useradd, runuser)";
  if (process.getuid?.() !== 0)
    return "needs root: it adds Unix users and a group, and runs kubecontrol as them";
  for (const tool of ["runuser", "useradd", "groupadd", "usermod", "install", "getent"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  return undefined;
}
const reason = skipReason();

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8" });
}

function exists(kind: "group" | "passwd", name: string): boolean {
  return spawnSync("getent", [kind, name]).status === 0;
}

/** The group and users, made once per machine (kept afterwards: the next run finds them). */
function ensureUsers(): void {
  if (!exists("group", GROUP)) sh("groupadd", [GROUP]);
  for (const user of [ALICE, BOB]) {
    if (!exists("passwd", user))
      sh("useradd", ["--create-home", "--groups", GROUP, "--shell", "/bin/sh", user]);
    else if (!sh("id", ["-nG", user]).split(/\s+/).includes(GROUP)) sh("usermod", ["-aG", GROUP, user]);
    // the users are kept between runs, their mirrors of earlier runs' remotes are not
    rmSync(path.join(home(user), ".cache/kubecontrol/sources"), { recursive: true, force: true });
  }
}

function gid(group: string): number {
  return Number(sh("getent", ["group", group]).split(":")[2]);
}

function uid(user: string): number {
  return Number(sh("id", ["-u", user]));
}

function home(user: string): string {
  return sh("getent", ["passwd", user]).split(":")[5]!;
}

/** Whether `user` can run this checkout's CLI where it is (every directory up to it traversable). */
function canRunHere(user: string, node: string, bin: string): boolean {
  return spawnSync("runuser", ["-u", user, "--", node, bin, "--help"], { cwd: "/" }).status === 0;
}

/** One stat of a file in the store, as seen while a run was going on. */
interface Seen {
  file: string;
  dir: boolean;
  uid: number;
  gid: number;
  mode: number;
}

/** Every file under `dir` (or only those directly in it), with owner, group and mode. */
function snapshot(dir: string, recursive = true): Seen[] {
  const seen: Seen[] = [];
  const entries = (() => {
    try {
      return readdirSync(dir, { recursive, withFileTypes: true });
    } catch {
      return []; // a directory removed while being read (a clone's temporary one)
    }
  })();
  for (const entry of entries) {
    const file = path.relative(dir, path.join(entry.parentPath, entry.name));
    const st = statSync(path.join(dir, file), { throwIfNoEntry: false });
    if (st) seen.push({ file, dir: st.isDirectory(), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 });
  }
  return seen;
}

/**
 * Records the files directly in `dir` every 20 ms until stopped: the store's -wal and -shm
 * exist only while a run has the database open. (The source mirror's files are checked once the
 * runs are over: git writes temporary files there that it gives the shared mode when done.)
 */
function watchStore(dir: string): { stop(): Seen[] } {
  const seen = new Map<string, Seen>();
  const look = () => {
    for (const s of snapshot(dir, false)) seen.set(JSON.stringify(s), s);
  };
  look();
  const timer = setInterval(look, 20);
  return {
    stop() {
      clearInterval(timer);
      look();
      return [...seen.values()];
    },
  };
}

describe.skipIf(reason !== undefined)(
  reason
    ? `two Unix users deploy in turn (skipped: ${reason})`
    : "two Unix users deploy in turn through the shared store",
  () => {
    let sbx: TestSandbox;
    let base: string;
    let project: E2eProject;
    let stateDir: string;
    let remote: string;
    let userEnv: NodeJS.ProcessEnv;
    let node = process.execPath;
    let bin = path.join(repoRoot, "bin/kubecontrol");
    const seen: Seen[] = [];

    /** Runs the CLI as `user` from their own checkout, watching the store's files meanwhile. */
    async function as(user: string, args: string[], accessKeyId = testAccessKeyId()) {
      const watch = watchStore(stateDir);
      try {
        return await spawnCli(args, {
          cwd: path.join(base, user),
          env: userEnv,
          accessKeyId,
          prefix: ["runuser", "-u", user, "--"],
          node,
          bin,
        }).done;
      } finally {
        seen.push(...watch.stop());
      }
    }

    beforeAll(async () => {
      ensureUsers();
      base = mkdtempSync(path.join(tmpdir(), "kc-two-users-"));
      chmodSync(base, 0o755);
      // The app's source: a git remote (a bare clone of root's project).
      remote = path.join(base, "remote.git");
      project = await e2eProject("hello", (spec) =>
        spec.replace(
          'context: "apps/hello"',
          `context: "apps/hello", source: { git: ${JSON.stringify(remote)} }`,
        ),
      );
      sbx = project.sbx;
      sh("git", ["clone", "--quiet", "--bare", project.root, remote]);
      // Each engineer's own checkout of the same commit.
      for (const user of [ALICE, BOB]) {
        cpSync(project.root, path.join(base, user), { recursive: true });
        sh("chown", ["-R", `${user}:`, path.join(base, user)]);
      }
      // The shared state directory, made as README says, and the host's configuration naming it.
      stateDir = path.join(base, "state");
      sh("install", ["-d", "-m", "2770", "-g", GROUP, stateDir]);
      const config = path.join(base, "config.yaml");
      writeFileSync(config, `stateDir: ${stateDir}\n`, { mode: 0o644 });
      // The users reach the CLI and node where they are, or a copy they can read.
      if (!canRunHere(ALICE, node, bin)) {
        const copy = path.join(base, "kubecontrol");
        mkdirSync(copy);
        for (const part of ["bin", "dist", "node_modules", "package.json"])
          cpSync(path.join(repoRoot, part), path.join(copy, part), { recursive: true });
        bin = path.join(copy, "bin/kubecontrol");
        if (!canRunHere(ALICE, node, bin)) {
          node = path.join(base, "node");
          copyFileSync(process.execPath, node);
          chmodSync(node, 0o755);
        }
        expect(canRunHere(ALICE, node, bin), `${ALICE} cannot run ${node} ${bin}`).toBe(true);
      }
      // The sandbox's environment, with its CA where they can read it.
      const ca = path.join(base, "sandbox-ca.pem");
      copyFileSync(sbx.env.NODE_EXTRA_CA_CERTS!, ca);
      chmodSync(ca, 0o644);
      // The remote is a local repository root owns, which git reads for another user only when
      // told to trust it (a remote over ssh or https has no owner here). Only the remote: the
      // mirror in the state directory must work without it.
      const gitconfig = path.join(base, "gitconfig");
      writeFileSync(gitconfig, `[safe]\n\tdirectory = ${remote}\n`, { mode: 0o644 });
      userEnv = {
        PATH: process.env.PATH,
        LANG: "C.UTF-8",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...sbx.env,
        NODE_EXTRA_CA_CERTS: ca,
        KUBECONTROL_CONFIG: config,
        GIT_CONFIG_GLOBAL: gitconfig,
      };
      // The image, built by root into ECR (its repository made first, as `image` needs it, with
      // the app's tag: create adopts only what its tags say is the app's).
      await awsCli(sbx, [
        "ecr",
        "create-repository",
        "--repository-name",
        project.app,
        "--image-tag-mutability",
        "IMMUTABLE",
        "--image-scanning-configuration",
        "scanOnPush=true",
        "--tags",
        `Key=kubecontrol:app,Value=${project.app}`,
      ]);
      const image = await spawnCli(["image", project.app], { cwd: project.root, env: project.env }).done;
      expect(image.status, image.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await project?.cleanup();
      if (base) rmSync(base, { recursive: true, force: true });
    }, 120_000);

    it(`${ALICE} creates the app`, async () => {
      // when kcalice runs create in her checkout, then it succeeds, the image found in ECR
      const run = await as(ALICE, ["create", project.app, "--yes"]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/: created in /);
      expect(run.stderr).toMatch(/ensure-image: no change: found /);
    }, 120_000);

    it(`${BOB} runs create again: the lease and the history kcalice's run made are his to use, his source mirror his own, and nothing changes`, async () => {
      // given a branch pushed to the remote since kcalice's run (the deployed branch unchanged)
      gitIn(project.root, "checkout", "-q", "-b", "side");
      writeFileSync(path.join(project.root, "side.txt"), "side\n");
      gitIn(project.root, "add", "side.txt");
      gitIn(project.root, "commit", "-q", "-m", "side");
      gitIn(project.root, "push", "-q", remote, "side");
      // when kcbob runs create in his checkout under a key of his own
      const key = testAccessKeyId();
      const run = await as(BOB, ["create", project.app, "--yes"], key);
      // then it succeeds as a no-op, with only reads
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/already deployed, nothing changed/);
      expect(await mutatingCalls(sbx, key)).toEqual({});
      // and each user's mirror of the remote is theirs alone, in their own cache, with the new branch
      for (const user of [ALICE, BOB]) {
        const dir = path.join(home(user), ".cache/kubecontrol/sources");
        const st = statSync(dir);
        expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid: uid(user), mode: "700" });
        const mirrors = readdirSync(dir).filter((f) => f.endsWith(".git"));
        expect(mirrors).toHaveLength(1);
        if (user === BOB)
          expect(
            sh("git", [
              "-c",
              `safe.directory=*`,
              "-C",
              path.join(dir, mirrors[0]!),
              "rev-parse",
              "refs/heads/side",
            ]).trim(),
          ).toBe(gitIn(project.root, "rev-parse", "HEAD").trim());
      }
      // and nothing of a source is kept in the shared state directory
      expect(readdirSync(stateDir)).not.toContain("sources");
    }, 60_000);

    it(`${BOB} tears the colour down`, async () => {
      const key = testAccessKeyId();
      const run = await as(BOB, ["teardown", project.app, "--colour", "blue", "--force", "--yes"], key);
      expect(run.status, run.stderr).toBe(0);
      expect(Object.keys(await mutatingCalls(sbx, key))).toContain("eks:DeleteCluster");
    }, 60_000);

    it("history names each user's runs, and the store stayed the group's and nobody else's", async () => {
      // when kcalice reads history
      const history = await as(ALICE, ["history", project.app, "-o", "json"]);
      expect(history.status, history.stderr).toBe(0);
      const runs = (JSON.parse(history.stdout) as { runs: HistoryRun[] }).runs;
      // then it shows the three runs, newest first, each under its user
      const host = hostname();
      expect(runs.map((r) => ({ command: r.command, result: r.result, who: r.who }))).toEqual([
        { command: "teardown", result: "succeeded", who: `${BOB}@${host}` },
        { command: "create", result: "no-op", who: `${BOB}@${host}` },
        { command: "create", result: "succeeded", who: `${ALICE}@${host}` },
      ]);

      // and the directory is the group's and setgid
      const group = gid(GROUP);
      const dir = statSync(stateDir);
      expect({ gid: dir.gid, mode: (dir.mode & 0o7777).toString(8) }).toEqual({ gid: group, mode: "2770" });
      // and every file seen in it while the runs went on was the group's and nobody else's: the
      // database and SQLite's -wal and -shm (which the last connection removes) 0660
      const names = new Set(seen.map((s) => s.file));
      expect([...names]).toEqual(
        expect.arrayContaining(["kubecontrol.db", "kubecontrol.db-shm", "kubecontrol.db-wal"]),
      );
      const wrong = seen.filter((s) => {
        if (s.gid !== group || (s.mode & 0o007) !== 0) return true;
        if (s.file.startsWith("kubecontrol.db")) return s.mode !== 0o660;
        if (s.dir) return s.mode !== 0o2770;
        return (s.mode & 0o070) >> 3 !== (s.mode & 0o700) >> 6;
      });
      expect(
        wrong.map((s) => `${s.file} ${s.mode.toString(8)} gid ${s.gid}`),
        `${seen.length} files seen`,
      ).toEqual([]);
      // and the database is kcalice's (she made it): kcbob wrote to a file another user owns
      expect(statSync(path.join(stateDir, "kubecontrol.db")).uid).toBe(uid(ALICE));
    }, 60_000);

    it(`neither user can make the other's run execute anything: ${ALICE}'s planted git configuration and hooks never run in ${BOB}'s`, async () => {
      const marker = path.join(base, "planted-ran");
      const planted = `sh -c 'id -un >> ${marker}; exec git-upload-pack "$@"' --`;
      // given kcalice planting, wherever she can write, what the old shared mirror would have
      // run for the next user: a mirror of the remote in the shared state directory with an
      // upload-pack of hers and a hook
      // (at the very name kubecontrol once gave the shared mirror of this remote)
      const name = `${createHash("sha256").update(remote).digest("hex").slice(0, 16)}.git`;
      const shared = path.join(stateDir, "sources", name);
      const asAlice = (...args: string[]) =>
        spawnSync("runuser", ["-u", ALICE, "--", ...args], { encoding: "utf8", env: userEnv });
      if (!existsSync(shared)) {
        expect(asAlice("mkdir", "-p", path.dirname(shared)).status).toBe(0);
        expect(asAlice("git", "clone", "--quiet", "--mirror", remote, shared).status).toBe(0);
      }
      expect(asAlice("git", "-C", shared, "config", "remote.origin.uploadpack", planted).status).toBe(0);
      asAlice(
        "sh",
        "-c",
        `printf '#!/bin/sh\nid -un >> ${marker}\n' > ${shared}/hooks/reference-transaction; chmod +x ${shared}/hooks/reference-transaction`,
      );
      // and trying kcbob's own mirror, which she cannot even read
      const bobs = path.join(home(BOB), ".cache/kubecontrol/sources");
      expect(asAlice("sh", "-c", `ls ${bobs}`).status).not.toBe(0);
      const mine = readdirSync(bobs).filter((f) => f.endsWith(".git"))[0]!;
      expect(
        asAlice("git", "-C", path.join(bobs, mine), "config", "remote.origin.uploadpack", planted).status,
      ).not.toBe(0);

      // when kcbob's next run fetches the remote (a new commit to resolve)
      gitIn(project.root, "commit", "-q", "--allow-empty", "-m", "another");
      gitIn(project.root, "push", "-q", remote, "side");
      const run = await as(BOB, ["create", project.app, "--version", "side", "--dry-run"]);

      // then it worked, and nothing kcalice planted ran
      expect(run.status, run.stderr).toBe(0);
      expect(existsSync(marker), readFileSync(marker, { encoding: "utf8", flag: "a+" })).toBe(false);
    }, 60_000);
  },
);
