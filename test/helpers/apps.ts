import path from "node:path";
import { loadSpecFile } from "../../src/spec/loader.js";
import type { ResolvedKubeApp } from "../../src/spec/resolve.js";
import type { KubeAppInput } from "../../src/spec/schema.js";
import { validateKubeApp } from "../../src/spec/validate.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const appsDir = path.join(repoRoot, "apps");

/** Loads one of the example apps in apps/ through the real loader. */
export async function exampleApp(name: "hello" | "webapp"): Promise<ResolvedKubeApp> {
  return (await loadSpecFile(path.join(appsDir, `${name}.ts`))).app;
}

/** A small valid spec, to be varied by each test. */
export function baseSpec(overrides: Partial<KubeAppInput> = {}): KubeAppInput {
  return {
    name: "demo",
    owner: "team-test",
    region: "us-east-1",
    hardware: { web: { instanceTypes: ["m6i.large"], min: 1, max: 3 } },
    image: { repository: "demo" },
    components: {
      web: {
        pool: "web",
        replicas: 2,
        containers: [{ name: "web", image: "app", ports: [{ name: "http", containerPort: 8080 }] }],
      },
    },
    services: {
      web: {
        component: "web",
        port: 80,
        targetPort: "http",
        loadBalancer: { listeners: [{ port: 80, protocol: "HTTP" }] },
      },
    },
    ...overrides,
  };
}

/** Validates a spec value and fails the test with the problems when it is invalid. */
export function resolved(spec: KubeAppInput): ResolvedKubeApp {
  const result = validateKubeApp(spec);
  if (!result.ok) throw new Error(`expected a valid spec: ${JSON.stringify(result.problems)}`);
  return result.app;
}
