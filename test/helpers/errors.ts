import { KubecontrolError } from "../../src/errors.js";

/** The coded error `fn` fails with; fails the test when it succeeds or throws anything else. */
export async function codedError(fn: () => Promise<unknown>): Promise<KubecontrolError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KubecontrolError) return err;
    throw err;
  }
  throw new Error("expected a coded error, and it succeeded");
}
