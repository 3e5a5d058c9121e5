import type { VerifyContext } from "kubecontrol";

/** Extra verification for webapp, run against a new colour before DNS moves to it. */
export default async function verify({ baseUrl, fetch }: VerifyContext): Promise<void> {
  const res = await fetch(`${baseUrl}/healthz`);
  if (res.status !== 200) throw new Error(`GET /healthz answered ${res.status}, expected 200`);
}
