import type { Aws } from "../../../aws/create-aws.js";
import { hasCode } from "../../../aws/errors.js";
import type { EnsuredImage } from "../../../images/ensure-image.js";
import type { Colour } from "../../../plan/names.js";
import type { Step, StepRef } from "../../step.js";
import { awsStep } from "../aws/stack-env.js";

/** The step that marks the image a colour runs, once its workloads run it. */
export const KEEP_LIVE_IMAGE = "keep-live-image";

/**
 * Tags that mark the image a standing colour runs. The repository's lifecycle policy gives them
 * a rule of their own, above the one that keeps the newest images, so however many builds
 * follow, a live or kept colour's image stays (and replacement nodes can pull it).
 */
export const LIVE_TAG_PREFIX = "kc-live-";

/** The tag that marks `commit`'s image as run by `colour`. */
export function liveTag(colour: Colour, commit: string): string {
  return `${LIVE_TAG_PREFIX}${colour}-${commit}`;
}

const colourTags = (colour: Colour) => (t: { tag: string }) =>
  t.tag.startsWith(`${LIVE_TAG_PREFIX}${colour}-`);

interface Needed {
  /** The colour's tag is missing, or names another image (an expired one rebuilt). */
  add: { tag: string; digest: string; misplaced: boolean } | undefined;
  /** Tags of images the colour ran before. */
  stale: string[];
}

/**
 * Marks the image the colour's workloads now run (`imageStep`'s result) with the colour's tag and
 * takes the colour's tag off the images it ran before. Runs after the workloads are judged, so a
 * rollout whose pods failed keeps the old image marked.
 */
export function keepLiveImageStep(o: {
  aws: Aws;
  repository: string;
  colour: Colour;
  image: StepRef<EnsuredImage>;
  dependsOn: string[];
}): Step<Needed, void> {
  const { ecr } = o.aws;
  return awsStep<Needed, void>({
    name: KEEP_LIVE_IMAGE,
    description: `keep the image ${o.colour} runs in ${o.repository}`,
    dependsOn: [o.image.step, ...o.dependsOn],
    timeoutMs: 120_000,
    async check(ctx) {
      const { image, commit } = ctx.result(o.image);
      const tag = liveTag(o.colour, commit);
      const mine = ((await ecr.imageTags(o.repository)) ?? []).filter(colourTags(o.colour));
      const current = mine.find((t) => t.tag === tag);
      const add =
        current?.digest === image.digest
          ? undefined
          : { tag, digest: image.digest, misplaced: current !== undefined };
      const stale = mine.filter((t) => t.tag !== tag).map((t) => t.tag);
      if (!add && !stale.length) return { satisfied: true, reason: `${tag} in place` };
      return {
        satisfied: false,
        reason: [add ? `${tag} missing` : "", stale.length ? `${stale.length} stale` : ""]
          .filter(Boolean)
          .join(", "),
        needed: { add, stale },
      };
    },
    async apply(_ctx, n) {
      if (n.add?.misplaced) await ecr.removeImageTags(o.repository, [n.add.tag]);
      if (n.add) await ecr.addImageTag(o.repository, n.add.digest, n.add.tag);
      await ecr.removeImageTags(o.repository, n.stale);
    },
    summarize: (changed) => `${o.colour}'s image ${changed ? "marked" : "already marked"} to be kept`,
  });
}

/** Takes a torn-down colour's tags off its images, so the lifecycle policy may expire them in turn. */
export function releaseLiveImageStep(o: {
  aws: Aws;
  repository: string;
  colour: Colour;
  dependsOn: string[];
}): Step<string[], void> {
  const { ecr } = o.aws;
  return awsStep<string[], void>({
    name: `delete-live-image-tags/${o.colour}`,
    description: `${o.colour}'s tags on images of ${o.repository}`,
    dependsOn: o.dependsOn,
    async check() {
      const tags = ((await ecr.imageTags(o.repository)) ?? []).filter(colourTags(o.colour)).map((t) => t.tag);
      if (!tags.length) return { satisfied: true, reason: "none" };
      return { satisfied: false, reason: tags.join(", "), needed: tags };
    },
    async apply(_ctx, tags) {
      await ecr.removeImageTags(o.repository, tags).catch((err: unknown) => {
        if (!hasCode(err, "RepositoryNotFoundException")) throw err;
      });
    },
  });
}
