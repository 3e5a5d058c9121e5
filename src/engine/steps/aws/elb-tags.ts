import type { Aws } from "../../../aws/create-aws.js";
import { tagRecord, tagsToSet } from "./stack-env.js";

/** The plan's tags an ELBv2 resource lacks or has with other values. */
export async function elbTagsToSet(
  aws: Aws,
  arn: string,
  desired: Record<string, string>,
  what: string,
): Promise<Record<string, string>> {
  const tags = (await aws.elbv2.describeTags([arn], what)).get(arn);
  return tagsToSet(desired, tagRecord(tags));
}
