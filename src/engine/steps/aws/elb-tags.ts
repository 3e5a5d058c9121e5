import type { Aws } from "../../../aws/create-aws.js";
import { claimTags, type StackEnv, tagRecord } from "./stack-env.js";

/** The plan's tags an ELBv2 resource lacks or has with other values, once it is found to be the app's. */
export async function elbTagsToSet(
  aws: Aws,
  arn: string,
  r: { kind: string; name: string; tags: Record<string, string> },
  env: Pick<StackEnv, "runId" | "adopt">,
  what: string,
): Promise<Record<string, string>> {
  const tags = (await aws.elbv2.describeTags([arn], what)).get(arn);
  return claimTags(r, tagRecord(tags), env);
}
