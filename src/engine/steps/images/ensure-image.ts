import { type EnsuredImage, type EnsureImageOptions, ensureImage } from "../../../images/ensure-image.js";
import { findImage } from "../../../images/find-image.js";
import { resolveVersion, userSourcesDir } from "../../../images/version.js";
import { type Step, stepRef } from "../../step.js";

/** The image step's result: the image, found or built. */
export const ENSURED_IMAGE = stepRef<EnsuredImage>("ensure-image");

/**
 * The image as an engine step: `check` resolves the version and asks ECR (satisfied when the
 * image is there, its reference the step's result); `apply` builds it once across processes.
 * The image does not wait for the cluster: steps that write pods depend on this one.
 */
export function ensureImageStep(
  o: Omit<EnsureImageOptions, "progress" | "signal">,
): Step<{ commit: string }, EnsuredImage> {
  return {
    name: ENSURED_IMAGE.step,
    description: `image of ${o.app.name} at ${o.version ?? "the default branch head"}`,
    timeoutMs: o.lockTimeoutMs ?? 60 * 60_000,
    async check() {
      const commit = await resolveVersion(o.app, o.projectRoot, o.version, {
        mirrorDir: userSourcesDir(),
      });
      const repository = await o.ecr.repository(o.app.image.repository);
      const image = await findImage(o.ecr, repository, commit);
      if (image) {
        const value: EnsuredImage = {
          app: o.app.name,
          commit,
          image,
          outcome: "found",
          waitedForOtherBuild: false,
        };
        return { satisfied: true, reason: `${repository.uri}:${commit} is in ECR`, value };
      }
      return { satisfied: false, reason: `${repository.uri}:${commit} is not in ECR`, needed: { commit } };
    },
    async apply(ctx, needed) {
      ctx.waiting(`the build of ${o.app.name} at ${needed?.commit ?? o.version}`);
      return ensureImage({
        ...o,
        version: needed?.commit ?? o.version,
        signal: ctx.signal,
        progress: (message) => ctx.log("info", message),
      });
    },
    async preview() {
      return [
        `build the image of ${o.app.name} at ${o.version?.slice(0, 12) ?? "the default branch head"} and push it to ECR`,
      ];
    },
    summarize(_changed, result) {
      return result ? `${result.outcome} ${result.image.reference}` : "image ensured";
    },
  };
}
