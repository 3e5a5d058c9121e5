import type { ResolvedKubeApp } from "../spec/resolve.js";
import { planAwsResources } from "./aws.js";
import type { AwsResource } from "./aws-types.js";
import { hashOf } from "./canonical.js";
import { type KubeObject, planKubeObjects } from "./kubernetes.js";
import { type Colour, namesFor } from "./names.js";
import { assignNodePorts } from "./node-ports.js";

export interface PlanInput {
  app: ResolvedKubeApp;
  colour: Colour;
  /** The code version (a commit) the image is tagged with. */
  version: string;
  /** The resolved image reference (tag and digest). Without it, ECR's documented placeholder account is shown. */
  image?: string;
}

/** Everything a deployment of one colour of an app should make. Pure and deterministic. */
export interface Plan {
  app: string;
  colour: Colour;
  version: string;
  region: string;
  cluster: string;
  image: string;
  /** Where the VPC and subnets are found (read, never created). */
  network: ResolvedKubeApp["network"] & { publicSubnetTag: string; privateSubnetTag: string };
  aws: AwsResource[];
  kubernetes: KubeObject[];
  /** sha256 of everything above: equal plans, equal hashes. */
  hash: string;
}

/** spec × code version × colour → desired AWS resources and Kubernetes objects. */
export function planApp({ app, colour, version, image }: PlanInput): Plan {
  const nodePorts = assignNodePorts(app);
  const imageRef =
    image ?? `aws_account_id.dkr.ecr.${app.region}.amazonaws.com/${app.image.repository}:${version}`;
  const aws = orderByDependencies(planAwsResources(app, colour, nodePorts));
  const kubernetes = planKubeObjects({ app, image: imageRef, version, nodePorts });
  const body = {
    app: app.name,
    colour,
    version,
    region: app.region,
    cluster: namesFor(app.name, colour).cluster,
    image: imageRef,
    network: {
      ...app.network,
      publicSubnetTag: "kubernetes.io/role/elb=1",
      privateSubnetTag: "kubernetes.io/role/internal-elb=1",
    },
    aws,
    kubernetes,
  };
  return { ...body, hash: hashOf(body) };
}

/** Stable topological order: each resource after what it depends on, otherwise as planned. */
export function orderByDependencies(resources: AwsResource[]): AwsResource[] {
  const byId = new Map<string, AwsResource>(resources.map((r) => [r.id, r]));
  const done = new Set<string>();
  const out: AwsResource[] = [];
  const visit = (r: AwsResource, path: string[]) => {
    if (done.has(r.id)) return;
    if (path.includes(r.id)) throw new Error(`dependency cycle in plan: ${[...path, r.id].join(" -> ")}`);
    for (const dep of r.dependsOn) {
      const d = byId.get(dep);
      if (d) visit(d, [...path, r.id]);
    }
    done.add(r.id);
    out.push(r);
  };
  for (const r of resources) visit(r, []);
  return out;
}
