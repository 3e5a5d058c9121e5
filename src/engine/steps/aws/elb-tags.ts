import type { Aws } from "../../../aws/create-aws.js";
import { tagRecord } from "./stack-env.js";

/** The tags of an ELBv2 resource (load balancer, target group, listener). */
export async function elbTags(aws: Aws, arn: string, what: string): Promise<Record<string, string>> {
  return tagRecord((await aws.elbv2.describeTags([arn], what)).get(arn));
}
