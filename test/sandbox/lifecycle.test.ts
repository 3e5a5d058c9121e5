import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { DeleteTagsCommand, DescribeVpcsCommand, EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterAll, describe, expect, it } from "vitest";
import { adminCall } from "../../src/sandbox/admin-client.js";
import { SANDBOX_COMPONENTS } from "../../src/sandbox/components.js";
import { sandboxEnv } from "../../src/sandbox/env.js";
import {
  requireUp,
  sandboxDown,
  sandboxReset,
  sandboxStatus,
  sandboxUp,
} from "../../src/sandbox/lifecycle.js";
import { stopProcess } from "../../src/sandbox/processes.js";
import { defaultSeedRequirements } from "../../src/sandbox/seed.js";
import { writeState } from "../../src/sandbox/state.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
// A sandbox of its own, so stopping it cannot disturb the shared test sandbox.
const dir = mkdtempSync(path.join(tmpdir(), "kc-sandbox-lifecycle-"));

/** Live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function seededVpcs(config: EC2ClientConfig): Promise<string[]> {
  const out = await new EC2Client(config).send(
    new DescribeVpcsCommand({ Filters: [{ Name: "tag:kubecontrol:vpc", Values: ["main"] }] }),
  );
  return (out.Vpcs ?? []).map((v) => v.VpcId!);
}

afterAll(async () => {
  // Even when a test failed half-way, stop what this file's sandbox started (state.json names it).
  await sandboxDown(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe("sandbox lifecycle", () => {
  it("comes up on free ports, says so when already up, and down leaves no process behind", async () => {
    const seed = defaultSeedRequirements("us-east-1");
    const first = await sandboxUp({ dir, region: "us-east-1", seed });
    expect(first.alreadyUp).toBe(false);
    expect(first.components.map((c) => [c.name, c.state])).toEqual(
      SANDBOX_COMPONENTS.map((c) => [c.name, "up"]),
    );
    const state = requireUp(dir);
    const pids = Object.values(state.components).map((c) => c.pid);
    expect(processesMentioning(dir).sort((a, b) => a - b)).toEqual(pids.sort((a, b) => a - b));

    // given it is up, when `up` runs again, then it changes nothing
    const second = await sandboxUp({ dir, region: "us-east-1", seed });
    expect(second.alreadyUp).toBe(true);
    expect(Object.values(requireUp(dir).components).map((c) => c.pid)).toEqual(pids);

    const env = sandboxEnv(state);
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: state.components.proxy!.address,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      NODE_EXTRA_CA_CERTS: path.join(dir, "ca", "ca.pem"),
      KUBECONTROL_SANDBOX: dir,
    });
    expect(readFileSync(env.NODE_EXTRA_CA_CERTS!, "utf8")).toContain("BEGIN CERTIFICATE");

    // the CLI over the same sandbox: up says so, env evals, faults add and clear, status --json
    const cli = (...args: string[]) => run(path.join(root, "bin", "kubecontrol"), [...args, "--dir", dir]);
    expect((await cli("sandbox", "up")).stdout).toContain("already up");
    const printed = (await cli("sandbox", "env")).stdout;
    const sourced = await run("bash", [
      "-c",
      `${printed}\necho "$AWS_ENDPOINT_URL $AWS_DEFAULT_REGION $KUBECONTROL_SANDBOX"`,
    ]);
    expect(sourced.stdout.trim()).toBe(`${env.AWS_ENDPOINT_URL} us-east-1 ${dir}`);
    expect(
      (await cli("sandbox", "faults", "add", "eks:*", "throttle", "--rate", "0.5", "--seed", "3")).stdout,
    ).toMatch(/eks:\*\s+throttle\s+0\.5\s+3/);
    expect((await cli("sandbox", "faults", "clear")).stdout).toContain("no fault rules");
    const status = JSON.parse((await cli("--json", "sandbox", "status")).stdout) as { up: boolean };
    expect(status.up).toBe(true);

    // reset: what was made since is gone, the seed is back, counts are cleared
    const config = {
      endpoint: env.AWS_ENDPOINT_URL,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIARESET", secretAccessKey: "x" },
    };
    const ecr = new ECRClient(config);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: "kc-test-reset" }));
    await new EC2Client(config).send(
      new DeleteTagsCommand({ Resources: await seededVpcs(config), Tags: [{ Key: "kubecontrol:vpc" }] }),
    );
    expect(await seededVpcs(config)).toEqual([]);
    await sandboxReset(dir, seed);
    expect((await ecr.send(new DescribeRepositoriesCommand({}))).repositories).toEqual([]);
    expect(await seededVpcs(config)).toHaveLength(1);
    expect((await adminCall<{ total: number }>(`${env.AWS_ENDPOINT_URL}/_proxy/calls`)).total).toBe(2);

    const down = await sandboxDown(dir);
    expect(down.stopped).toEqual(Object.fromEntries(SANDBOX_COMPONENTS.map((c) => [c.name, "stopped"])));
    expect(processesMentioning(dir)).toEqual([]);
    expect((await sandboxStatus(dir)).components.every((c) => c.state === "not-started")).toBe(true);
    expect((await sandboxDown(dir)).wasUp).toBe(false);
  }, 180_000); // every component starts and stops, part 2's included: slow on a busy machine

  it("never stops a recorded pid that is no longer ours", async () => {
    // given a state file (in a directory of its own) whose pid now belongs to another process: this test runner
    const ghostDir = mkdtempSync(path.join(tmpdir(), "kc-sandbox-ghost-"));
    const pidFile = path.join(ghostDir, "run", "ghost.pid");
    writeState(path.join(ghostDir, "state.json"), {
      version: 1,
      dir: ghostDir,
      region: "us-east-1",
      startedAt: new Date().toISOString(),
      components: {
        ghost: {
          name: "ghost",
          pid: process.pid,
          marker: `${ghostDir}/not-this`,
          logFile: "",
          pidFile,
          startedAt: "",
        },
      },
    });
    expect(await stopProcess({ pid: process.pid, marker: `${ghostDir}/not-this`, pidFile })).toBe("not-ours");
    expect((await sandboxDown(ghostDir)).stopped).toEqual({ ghost: "not-ours" });
    rmSync(ghostDir, { recursive: true, force: true });
  });

  it("reports a missing prerequisite with what to install, exit code 9", async () => {
    const other = mkdtempSync(path.join(tmpdir(), "kc-sandbox-prereq-"));
    const result = await run(path.join(root, "bin", "kubecontrol"), ["sandbox", "up", "--dir", other], {
      env: { ...process.env, KUBECONTROL_SANDBOX_PYTHON: "/nonexistent/python3" },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    rmSync(other, { recursive: true, force: true });
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("moto[server]==5.2.1");
  });
});
