import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The one gate before every change a run makes (DESIGN.md, principle 5: fencing reaches the
 * cloud). A leased run installs its gate around everything it does; every mutating AWS request,
 * every Kubernetes write and every image push asks it first, and it refuses (throwing the lease
 * error) once the run can no longer prove it holds the app's lease. Kept at the root of src/,
 * as errors.ts is, so that src/aws, src/kube and src/images can ask it without knowing runs.
 */
export interface ChangeGate {
  /** Throws (LOCKED, or INTERNAL for a dry run) when `what` may not be done now. */
  check(what: string): void;
  /**
   * Called when a change has passed the gate and is about to be sent; the returned function
   * when it has been answered (or failed). A lease waits for the changes in flight before it is
   * released, so none lands once another run may hold it.
   */
  enter?(what: string): () => void;
}

const current = new AsyncLocalStorage<ChangeGate>();

/** Runs `fn` with every change it makes (and everything it starts) asking `gate` first. */
export function withChangeGate<T>(gate: ChangeGate, fn: () => Promise<T>): Promise<T> {
  return current.run(gate, fn);
}

/**
 * Asks the gate of the run this code works for whether `what` (a mutating request) may go out;
 * throws when it may not. Outside a gated run (a test, `kubecontrol image`) everything may.
 */
export function assertMayChange(what: string): void {
  current.getStore()?.check(what);
}

/**
 * Sends a change through the gate of the run this code works for: asks first (throwing when it
 * may not go), then counts it in flight until it is answered. Outside a gated run it just runs.
 */
export async function gatedChange<T>(what: string, send: () => Promise<T>): Promise<T> {
  const gate = current.getStore();
  if (!gate) return send();
  gate.check(what);
  const done = gate.enter?.(what);
  try {
    return await send();
  } finally {
    done?.();
  }
}

/** Whether an AWS operation only reads (Describe*, List*, Get*...); everything else is a change. */
export function isReadOnlyOperation(operation: string): boolean {
  return /^(Describe|List|Get|BatchGet|BatchCheck|Lookup|Search|Head|Check|Validate)/.test(operation);
}
