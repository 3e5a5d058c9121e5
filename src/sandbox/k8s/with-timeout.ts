/**
 * Rejects when `promise` has not settled within `ms`. The Kubernetes client has no request
 * timeout of its own, and one control plane that stops answering (being deleted, or still
 * starting) must not stall a poll that serves every cluster.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
