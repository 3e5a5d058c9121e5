/**
 * Failpoints: named places in a run where a test can stop the process dead, to prove that a
 * re-run finishes the job. Named `<step>:<phase>`; switched on by KUBECONTROL_FAILPOINTS, a
 * comma-separated list (`*` for every step: `*:after-apply`). When the variable is unset a
 * failpoint is one comparison.
 */

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
let armed: Armed | undefined = fromList(parse(process.env.KUBECONTROL_FAILPOINTS));
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
  return (point, phase) => set.has(point) || set.has(`*:${phase}`);
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
