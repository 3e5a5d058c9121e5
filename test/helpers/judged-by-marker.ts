import { writeFileSync } from "node:fs";
import path from "node:path";
import type { E2eProject } from "./e2e-project.js";

/**
 * Gives the project's app a verify hook that fails for a colour while `<root>/fail-<colour>`
 * exists (a judgement the test controls) and the spec's `deploy.keepOldColourFor`.
 */
export function judgedByMarker(p: E2eProject, keepOldColourFor: string): void {
  writeFileSync(
    path.join(p.root, "apps", `${p.app}.verify.ts`),
    `import { existsSync } from "node:fs";
import type { VerifyContext } from "kubecontrol";
export default async function verify(c: VerifyContext): Promise<void> {
  if (existsSync(${JSON.stringify(p.root)} + "/fail-" + c.colour)) throw new Error(\`\${c.colour} is marked bad\`);
}
`,
  );
  p.writeSpec((s) =>
    s.replace(
      "  dns: {",
      `  deploy: { keepOldColourFor: "${keepOldColourFor}", verify: { hook: "./${p.app}.verify.ts", timeout: "15s" } },\n  dns: {`,
    ),
  );
}
