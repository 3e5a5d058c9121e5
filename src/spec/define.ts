import type { KubeAppInput } from "./schema.js";

/**
 * Declares a KubeApp. Typed for editors (a misspelt field is a type error there); validated
 * again when kubecontrol loads the file.
 *
 * @example
 * export default defineKubeApp({ name: "hello", owner: "team-web", hardware: {...}, components: {...} });
 */
export function defineKubeApp(spec: KubeAppInput): KubeAppInput {
  return spec;
}

/** What a verify hook (`deploy.verify.hook`) receives: the new colour, before DNS points at it. */
export interface VerifyContext {
  app: string;
  colour: "blue" | "green";
  version: string;
  /**
   * The app's own URL as clients will use it, e.g. `https://webapp.example.com` (an HTTPS listener
   * when there is one). DNS does not point there yet: use `fetch` below, which connects to the new
   * colour's load balancer while TLS and the Host header see this name.
   */
  baseUrl: string;
  /** A fetch whose requests for `baseUrl`'s host go to the new colour's load balancer; certificates are verified. */
  fetch: typeof globalThis.fetch;
  signal: AbortSignal;
}
