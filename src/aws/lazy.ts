import { type AwsOptions, instrument, sdkClientConfig } from "./client-config.js";

/**
 * An SDK module and two clients built from it on first use: `client` retries by itself;
 * `once` makes one attempt, for creates, whose retries must look before they repeat (moto, unlike
 * AWS, ignores idempotency tokens, and a create whose answer was lost would be made twice).
 */
export type Lazy<M, C> = () => Promise<{ m: M; client: C; once: C }>;

/**
 * Imports the SDK package only when its client is first used: the CLI's start-up (and --help)
 * must not pay for eleven service packages.
 */
export function lazyClient<M, C extends { middlewareStack: unknown }>(
  load: () => Promise<M>,
  build: (m: M, config: ReturnType<typeof sdkClientConfig>) => C,
  options: AwsOptions,
): Lazy<M, C> {
  let made: Promise<{ m: M; client: C; once: C }> | undefined;
  return () => {
    made ??= load().then((m) => {
      const client = build(m, sdkClientConfig(options));
      instrument(client as never);
      const once = build(m, { ...sdkClientConfig(options), maxAttempts: 1 });
      instrument(once as never);
      return { m, client, once };
    });
    return made;
  };
}

/** Collects every page of a paginated list: callers get whole arrays. */
export async function allPages<T>(
  fetch: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    out.push(...(page.items ?? []));
    token = page.next;
  } while (token);
  return out;
}
