import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { awsCli } from "../aws/stack-fixture.js";
import { repoRoot } from "./apps.js";
import { callCounts, type TestSandbox } from "./sandbox.js";

// What end-to-end tests of several kubecontrol processes share (test/helpers/e2e-project.ts
// makes the project): the CLI as a real process with its pid, run as another user when asked,
// the proxy's view of who changed what, and the resources the sandbox holds per logical name.

/** A finished CLI process. */
export interface CliRun {
  /** The exit code; 128 when a signal ended it. */
  status: number;
  /** The signal that ended it (a failpoint's SIGKILL), if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  startedAt: number;
  finishedAt: number;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Signs its AWS calls with this key, so the proxy counts them apart. */
  accessKeyId?: string;
  /** Runs the CLI through this command (e.g. `["runuser", "-u", "kcalice", "--"]`). */
  prefix?: string[];
  /** The CLI to run (default: this checkout's bin/kubecontrol). */
  bin?: string;
  /** The node to run it with (default: this one). */
  node?: string;
  /** Node's own options, before the CLI (e.g. `["--import", probe]`). */
  nodeArgs?: string[];
  /** Sees the stderr so far, as it comes. */
  onStderr?: (text: string) => void;
  /**
   * Ends the process (SIGTERM, then SIGKILL 5 s later) once it has run this long, so a test
   * that waits on it fails with what it printed rather than at the test's own timeout.
   */
  timeoutMs?: number;
}

/** Starts bin/kubecontrol as a real process; resolves when it has exited. */
export function spawnCli(args: string[], o: SpawnOptions): { pid: number; done: Promise<CliRun> } {
  const startedAt = Date.now();
  const node = o.node ?? process.execPath;
  const bin = o.bin ?? path.join(repoRoot, "bin/kubecontrol");
  const [command, ...rest] = [...(o.prefix ?? []), node, ...(o.nodeArgs ?? []), bin, ...args] as [
    string,
    ...string[],
  ];
  const child: ChildProcess = spawn(command, rest, {
    cwd: o.cwd,
    env: { ...o.env, NO_COLOR: "1", ...(o.accessKeyId ? { AWS_ACCESS_KEY_ID: o.accessKeyId } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
    o.onStderr?.(stderr);
  });
  const timer =
    o.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          stderr += `\n[test] still running after ${o.timeoutMs} ms: sent SIGTERM\n`;
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
        }, o.timeoutMs);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: code ?? (signal ? 128 : -1),
        signal,
        stdout,
        stderr,
        pid: child.pid ?? -1,
        startedAt,
        finishedAt: Date.now(),
      });
    });
  });
  return { pid: child.pid ?? -1, done };
}

/** AWS operations that only read. */
export const READ_ONLY = /^(Describe|List|Get|BatchGet|BatchCheck)/;

/** The operations (`service:Operation`) the proxy saw from `accessKeyId` that change something. */
export async function mutatingCalls(sbx: TestSandbox, accessKeyId: string): Promise<Record<string, number>> {
  const counts = await callCounts(sbx, accessKeyId);
  return Object.fromEntries(
    Object.entries(counts.calls).filter(([op]) => !READ_ONLY.test(op.split(":")[1] ?? "")),
  );
}

/** A run as `kubecontrol history -o json` prints it. */
export interface HistoryRun {
  id: string;
  app: string;
  command: string;
  who: string;
  version: string | null;
  colour: string | null;
  startedAt: number;
  finishedAt: number | null;
  result: string;
  error: string | null;
}

/** The plan `kubecontrol plan <app> -o json` prints, as far as the tests read it. */
export interface PlanJson {
  cluster: string;
  aws: { kind: string; id: string; name: string; properties: Record<string, unknown> }[];
}

/**
 * How many of each planned AWS resource the sandbox holds, keyed by the plan's logical id, read
 * with the AWS CLI: one listing per kind (fetched at once, as each AWS CLI call costs a second or
 * two of Python start-up), counted by the resource's name. Lookups by name AWS keeps unique would
 * hide a duplicate, so each count comes from a listing: a second listener on the same port, or a
 * second security group of the same name in another VPC, shows as 2.
 */
export async function resourceCounts(sbx: TestSandbox, plan: PlanJson): Promise<Record<string, number>> {
  const listings = new Map<string, Promise<unknown>>();
  const list = <T>(args: string[], orElse?: T): Promise<T> => {
    const key = args.join(" ");
    if (!listings.has(key)) {
      const call = awsCli(sbx, args);
      listings.set(key, orElse === undefined ? call : call.catch(() => orElse));
    }
    return listings.get(key) as Promise<T>;
  };
  const byId = new Map(plan.aws.map((r) => [r.id, r]));
  const named = (name: string) => (n: string | undefined) => n === name;

  const count = async (r: PlanJson["aws"][number]): Promise<number> => {
    switch (r.kind) {
      case "iam-role":
        return (await list<{ Roles: { RoleName: string }[] }>(["iam", "list-roles"])).Roles.filter((x) =>
          named(r.name)(x.RoleName),
        ).length;
      case "iam-instance-profile":
        return (
          await list<{ InstanceProfiles: { InstanceProfileName: string }[] }>([
            "iam",
            "list-instance-profiles",
          ])
        ).InstanceProfiles.filter((x) => named(r.name)(x.InstanceProfileName)).length;
      case "ecr-repository":
        return (
          await list<{ repositories: { repositoryName: string }[] }>(["ecr", "describe-repositories"])
        ).repositories.filter((x) => named(r.name)(x.repositoryName)).length;
      case "security-group":
        return (
          await list<{ SecurityGroups: { GroupName: string }[] }>(["ec2", "describe-security-groups"])
        ).SecurityGroups.filter((x) => named(r.name)(x.GroupName)).length;
      case "eks-cluster":
        return (await list<{ clusters: string[] }>(["eks", "list-clusters"])).clusters.filter(named(r.name))
          .length;
      case "eks-access-entry": {
        // One entry per principal (here the node role); none once the cluster is gone.
        const role = byId.get(String((r.properties.principal as { role?: string }).role));
        const entries = await list<{ accessEntries: string[] }>(
          ["eks", "list-access-entries", "--cluster-name", plan.cluster],
          { accessEntries: [] },
        );
        return entries.accessEntries.filter((arn) => arn.endsWith(`:role/${role?.name}`)).length;
      }
      case "launch-template":
        return (
          await list<{ LaunchTemplates: { LaunchTemplateName: string }[] }>([
            "ec2",
            "describe-launch-templates",
          ])
        ).LaunchTemplates.filter((x) => named(r.name)(x.LaunchTemplateName)).length;
      case "target-group":
        return (
          await list<{ TargetGroups: { TargetGroupName: string }[] }>(["elbv2", "describe-target-groups"])
        ).TargetGroups.filter((x) => named(r.name)(x.TargetGroupName)).length;
      case "auto-scaling-group":
        return (
          await list<{ AutoScalingGroups: { AutoScalingGroupName: string }[] }>([
            "autoscaling",
            "describe-auto-scaling-groups",
          ])
        ).AutoScalingGroups.filter((x) => named(r.name)(x.AutoScalingGroupName)).length;
      case "load-balancer":
        return (await loadBalancers()).filter((x) => named(r.name)(x.LoadBalancerName)).length;
      case "listener": {
        const lb = byId.get(String(r.properties.loadBalancer))!;
        const arns = (await loadBalancers()).filter((x) => x.LoadBalancerName === lb.name);
        let n = 0;
        for (const { LoadBalancerArn } of arns) {
          const listeners = await list<{ Listeners: { Port: number }[] }>([
            "elbv2",
            "describe-listeners",
            "--load-balancer-arn",
            LoadBalancerArn,
          ]);
          n += listeners.Listeners.filter((l) => l.Port === r.properties.port).length;
        }
        return n;
      }
      case "route53-record": {
        const zones = await list<{ HostedZones: { Id: string; Name: string }[] }>([
          "route53",
          "list-hosted-zones",
        ]);
        const zone = zones.HostedZones.find((z) => z.Name === `${r.properties.zone}.`)!;
        const sets = await list<{ ResourceRecordSets: { Name: string; SetIdentifier?: string }[] }>([
          "route53",
          "list-resource-record-sets",
          "--hosted-zone-id",
          zone.Id,
        ]);
        return sets.ResourceRecordSets.filter(
          (x) => x.Name === `${r.properties.record}.` && x.SetIdentifier === r.properties.setIdentifier,
        ).length;
      }
      default:
        throw new Error(`resourceCounts: no lookup for ${r.kind} (${r.id}): add one`);
    }
  };
  const loadBalancers = async () =>
    (
      await list<{ LoadBalancers: { LoadBalancerName: string; LoadBalancerArn: string }[] }>([
        "elbv2",
        "describe-load-balancers",
      ])
    ).LoadBalancers;
  const counted = await Promise.all(plan.aws.map(async (r) => [r.id, await count(r)] as const));
  return Object.fromEntries(counted);
}
