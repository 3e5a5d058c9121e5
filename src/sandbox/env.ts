import { sandboxPaths } from "./paths.js";
import type { SandboxState } from "./state.js";

/** Dummy credentials: moto accepts any; STS answers for them as the account's default user. */
export const SANDBOX_ACCESS_KEY_ID = "AKIASANDBOXEXAMPLE00";
export const SANDBOX_SECRET_ACCESS_KEY = "sandbox-secret-access-key";

/**
 * The environment that points AWS clients at a sandbox. The engine learns nothing else from it:
 * the AWS endpoint (the proxy), the region, dummy credentials, the CA, the sandbox's dir (for the
 * sandbox's own commands) and how long resolvers cache (nothing caches the sandbox's records).
 */
export function sandboxEnv(state: SandboxState): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: state.components.proxy!.address!,
    AWS_REGION: state.region,
    AWS_DEFAULT_REGION: state.region,
    AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SANDBOX_SECRET_ACCESS_KEY,
    NODE_EXTRA_CA_CERTS: sandboxPaths(state.dir).caFile,
    KUBECONTROL_SANDBOX: state.dir,
    // No resolver caches the sandbox's records: nothing to wait out after a DNS switch.
    KUBECONTROL_RESOLVER_CACHE: "0s",
  };
}

/** `export NAME='value'` lines for `eval "$(kubecontrol sandbox env)"`. */
export function formatEnvForShell(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'`)
    .join("\n");
}
