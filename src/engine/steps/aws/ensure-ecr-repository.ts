import type { EcrRepository } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { LIVE_TAG_PREFIX } from "../images/keep-live-image.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What image builds need of the repository. */
export interface RepositoryRef {
  name: string;
  uri: string;
  arn: string;
}

interface Needed {
  exists: boolean;
  scan: boolean;
  mutability: boolean;
  lifecycle: boolean;
  tags: Record<string, string>;
}

/**
 * The lifecycle policy: the images standing colours run (tagged `kc-live-…` by keepLiveImage)
 * are selected by a rule of their own that never expires them (ECR never lets a lower-priority
 * rule expire an image a higher one selects); of the others, the newest `keep` stay.
 */
export function lifecyclePolicy(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: "keep the images standing colours run",
        selection: {
          tagStatus: "tagged",
          tagPrefixList: [LIVE_TAG_PREFIX],
          countType: "imageCountMoreThan",
          countNumber: LIVE_IMAGES_LIMIT,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `keep the last ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  });
}

/** More images than two colours can ever mark: the live rule's count exists only because ECR wants one. */
const LIVE_IMAGES_LIMIT = 1000;

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return a !== undefined && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** Ensures the app's ECR repository: scan on push, immutable tags, a lifecycle policy. */
export function ensureEcrRepositoryStep(r: EcrRepository, env: StackEnv): Step<Needed, RepositoryRef> {
  const { ecr } = env.aws;
  const p = r.properties;
  const policy = lifecyclePolicy(p.keepImages);
  return awsStep<Needed, RepositoryRef>({
    name: ensureName(r.id),
    description: `ECR repository ${r.name}`,
    dependsOn: [],
    timeoutMs: 300_000,
    async check() {
      const repo = await ecr.describeRepository(r.name);
      if (!repo)
        return {
          satisfied: false,
          reason: "missing",
          needed: { exists: false, scan: false, mutability: false, lifecycle: true, tags: {} },
        };
      const tags = claimTags(
        r,
        tagRecord(await ecr.listTags(repo.repositoryArn!, `repository ${r.name}`)),
        env,
      );
      const needed: Needed = {
        exists: true,
        scan: repo.imageScanningConfiguration?.scanOnPush !== p.scanOnPush,
        mutability: repo.imageTagMutability !== p.tagMutability,
        lifecycle: !sameJson(await ecr.getLifecyclePolicy(r.name), policy),
        tags,
      };
      const value = { name: r.name, uri: repo.repositoryUri!, arn: repo.repositoryArn! };
      if (!needed.scan && !needed.mutability && !needed.lifecycle && !Object.keys(tags).length)
        return { satisfied: true, reason: repo.repositoryUri!, value };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(_ctx, n) {
      const repo = n.exists
        ? (await ecr.describeRepository(r.name))!
        : (await createOrAdopt(
            () =>
              ecr.createRepository({
                repositoryName: r.name,
                imageScanningConfiguration: { scanOnPush: p.scanOnPush },
                imageTagMutability: p.tagMutability,
                tags: tagList(creationTags(r.tags, env.runId)),
              }),
            ownedFind(
              () => ecr.describeRepository(r.name),
              async (repo) => tagRecord(await ecr.listTags(repo.repositoryArn!, `repository ${r.name}`)),
              r,
              env,
            ),
            ["RepositoryAlreadyExistsException"],
          ))!;
      if (n.scan) await ecr.putScanOnPush(r.name, p.scanOnPush);
      if (n.mutability) await ecr.putTagMutability(r.name, p.tagMutability);
      if (Object.keys(n.tags).length)
        await ecr.tagResource(repo.repositoryArn!, tagList(n.tags), `repository ${r.name}`);
      if (n.lifecycle) await ecr.putLifecyclePolicy(r.name, policy);
      return { name: r.name, uri: repo.repositoryUri!, arn: repo.repositoryArn! };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.uri ?? r.name}`,
  });
}
