/**
 * Failpoints: named places in a run where a test can stop the process dead, to prove that a
 * re-run finishes the job. Named `<step>:<phase>`; switched on by KUBECONTROL_FAILPOINTS, a
 * comma-separated list (`*` for every step: `*:after-apply`). When the variable is unset a
 * failpoint is one comparison.
 */

/** Where in a step: before its apply (its start journaled), after its apply (the AWS or Kubernetes call made, nothing journaled), after its end is journaled. */
export const FAILPOINT_PHASES = ["before-apply", "after-apply", "after-journal"] as const;
export type FailpointPhase = (typeof FAILPOINT_PHASES)[number];

/** What happens at an armed failpoint. By default: SIGKILL, as a crash or `kill -9` would. */
export type FailpointAction = (point: string) => void;

const killProcess: FailpointAction = (point) => {
  process.stderr.write(`kubecontrol: failpoint ${point}: killing the process\n`);
  process.kill(process.pid, "SIGKILL");
};

let armed: ReadonlySet<string> | undefined = parse(process.env.KUBECONTROL_FAILPOINTS);
let action: FailpointAction = killProcess;

function parse(text: string | undefined): ReadonlySet<string> | undefined {
  const points = (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  return points.length > 0 ? new Set(points) : undefined;
}

/** Stops here if `<step>:<phase>` (or `*:<phase>`) is armed. */
export function failpoint(step: string, phase: FailpointPhase): void {
  if (armed === undefined) return;
  const point = `${step}:${phase}`;
  if (armed.has(point) || armed.has(`*:${phase}`)) action(point);
}

/**
 * Arms failpoints in this process (in-process tests) with the action to take, which must not
 * return normally when the run is to stop (throw after freezing what the "dead" run could still
 * write). `undefined` disarms them and restores the default action.
 */
export function armFailpoints(points: readonly string[] | undefined, onHit?: FailpointAction): void {
  armed = points && points.length > 0 ? new Set(points) : undefined;
  action = onHit ?? killProcess;
}
