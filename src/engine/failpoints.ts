/**
 * Failpoints: named places in a run where a test can stop the process dead, to prove that a
 * re-run finishes the job. Named `<step>:<phase>`; switched on by KUBECONTROL_FAILPOINTS, a
 * comma-separated list (`*:after-apply` for every step's phase, `*` for every point). Two more
 * variables let a harness walk every point a command reaches without knowing their names:
 * KUBECONTROL_FAILPOINTS_SKIP, points that do not fire (the ones already killed at), and
 * KUBECONTROL_FAILPOINTS_EVERY=`N:seed`, which arms about one point in N, chosen by a hash of
 * the seed and the point's name (the same seed, the same points). When KUBECONTROL_FAILPOINTS
 * is unset a failpoint is one comparison.
 */
import { createHash } from "node:crypto";

/** Where in a step: before its apply (its start journaled), after its apply (the AWS or Kubernetes call made, nothing journaled), after its end is journaled. */
export const FAILPOINT_PHASES = ["before-apply", "after-apply", "after-journal"] as const;
export type FailpointPhase = (typeof FAILPOINT_PHASES)[number];

/**
 * What happens at an armed failpoint. By default: SIGKILL, as a crash or `kill -9` would. With
 * KUBECONTROL_FAILPOINT_ACTION=stop: SIGSTOP, as Ctrl-Z would; the run goes on where it was
 * once the process is continued (SIGCONT), to prove that a paused run which lost its lease
 * changes nothing when it wakes.
 */
export type FailpointAction = (point: string) => void;

const killProcess: FailpointAction = (point) => {
  process.stderr.write(`kubecontrol: failpoint ${point}: killing the process\n`);
  process.kill(process.pid, "SIGKILL");
};

const stopProcess: FailpointAction = (point) => {
  process.stderr.write(`kubecontrol: failpoint ${point}: stopping the process (SIGSTOP)\n`);
  process.kill(process.pid, "SIGSTOP");
};

type Armed = (point: string, phase: FailpointPhase) => boolean;
let armed: Armed | undefined = fromEnv(process.env);
const defaultAction = (): FailpointAction =>
  process.env.KUBECONTROL_FAILPOINT_ACTION === "stop" ? stopProcess : killProcess;
let action: FailpointAction = defaultAction();

function parse(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function fromList(points: readonly string[]): Armed | undefined {
  if (points.length === 0) return undefined;
  const set = new Set(points);
  return (point, phase) => set.has("*") || set.has(point) || set.has(`*:${phase}`);
}

function fromEnv(env: NodeJS.ProcessEnv): Armed | undefined {
  const listed = fromList(parse(env.KUBECONTROL_FAILPOINTS));
  if (listed === undefined) return undefined;
  const skip = new Set(parse(env.KUBECONTROL_FAILPOINTS_SKIP));
  const sample = parseEvery(env.KUBECONTROL_FAILPOINTS_EVERY);
  return (point, phase) => !skip.has(point) && (sample?.(point) ?? true) && listed(point, phase);
}

/** `N:seed`: a point is in the sample when the hash of the seed and its name is 0 modulo N. */
function parseEvery(text: string | undefined): ((point: string) => boolean) | undefined {
  const match = /^(\d+)(?::(.*))?$/.exec(text?.trim() ?? "");
  if (!match) return undefined;
  const n = Math.max(1, Number(match[1]));
  const seed = match[2] ?? "";
  return (point) => createHash("sha256").update(`${seed}\u0000${point}`).digest().readUInt32BE(0) % n === 0;
}

/** Stops here if `<step>:<phase>` (or `*:<phase>`) is armed. */
export function failpoint(step: string, phase: FailpointPhase): void {
  if (armed === undefined) return;
  const point = `${step}:${phase}`;
  if (armed(point, phase)) action(point);
}

/**
 * Arms failpoints in this process (in-process tests): a list of points, or a predicate over
 * every point reached. `onHit` must not return normally when the run is to stop (it throws after
 * freezing what the "dead" run could still write). `undefined` disarms them and restores the
 * default action.
 */
export function armFailpoints(
  points: readonly string[] | ((point: string) => boolean) | undefined,
  onHit?: FailpointAction,
): void {
  armed = typeof points === "function" ? (point) => points(point) : fromList(points ?? []);
  action = onHit ?? defaultAction();
}
