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
  /** The colour's load balancer, e.g. `http://kc-webapp-green-123.us-east-1.elb.amazonaws.com`. */
  baseUrl: string;
  fetch: typeof globalThis.fetch;
  signal: AbortSignal;
}
