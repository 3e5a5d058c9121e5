import type { Repository } from "@aws-sdk/client-ecr";
import type { EcrRepository } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { LIVE_TAG_PREFIX } from "../images/keep-live-image.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { type StackEnv, tagList, tagRecord } from "./stack-env.js";

/** What image builds need of the repository. */
export interface RepositoryRef {
  name: string;
  uri: string;
  arn: string;
}

interface Changes {
  scan: boolean;
  mutability: boolean;
  lifecycle: boolean;
}

/**
 * The lifecycle policy: the images standing colours run (tagged `kc-live-…` by keep-live-image)
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
export function ensureEcrRepositoryStep(
  r: EcrRepository,
  env: StackEnv,
): Step<EnsureNeeded<Repository, Changes>, RepositoryRef> {
  const { ecr } = env.aws;
  const p = r.properties;
  const what = `repository ${r.name}`;
  const policy = lifecyclePolicy(p.keepImages);
  return ensureStep<Repository, Changes, RepositoryRef>({
    r,
    env,
    description: `ECR repository ${r.name}`,
    dependsOn: [],
    timeoutMs: 300_000,
    find: () => ecr.describeRepository(r.name),
    tagsOf: async (repo) => tagRecord(await ecr.listTags(repo.repositoryArn!, what)),
    async diff(_ctx, repo) {
      // A new repository is made with its scanning and mutability; its lifecycle policy comes after.
      if (!repo) return { scan: false, mutability: false, lifecycle: true };
      return {
        scan: repo.imageScanningConfiguration?.scanOnPush !== p.scanOnPush,
        mutability: repo.imageTagMutability !== p.tagMutability,
        lifecycle: !sameJson(await ecr.getLifecyclePolicy(r.name), policy),
      };
    },
    create: async (_ctx, tags) =>
      (await ecr.createRepository({
        repositoryName: r.name,
        imageScanningConfiguration: { scanOnPush: p.scanOnPush },
        imageTagMutability: p.tagMutability,
        tags: tagList(tags),
      }))!,
    alreadyExists: ["RepositoryAlreadyExistsException"],
    tag: (_ctx, repo, tags) => ecr.tagResource(repo.repositoryArn!, tagList(tags), what),
    async change(_ctx, _repo, d) {
      if (d.scan) await ecr.putScanOnPush(r.name, p.scanOnPush);
      if (d.mutability) await ecr.putTagMutability(r.name, p.tagMutability);
      if (d.lifecycle) await ecr.putLifecyclePolicy(r.name, policy);
    },
    ref: (repo) => ({ name: r.name, uri: repo.repositoryUri!, arn: repo.repositoryArn! }),
    inPlace: (repo) => repo.repositoryUri!,
    summary: (ref) => ref.uri,
  });
}
