import { KubecontrolError } from "../../../errors.js";
import type { TargetGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { elbTagsToSet } from "./elb-tags.js";
import {
  awsStep,
  createOrAdopt,
  creationTags,
  ensureName,
  FIND_NETWORK,
  networkOf,
  ownedFind,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What listeners and Auto Scaling Groups need of a target group. */
export interface TargetGroupRef {
  arn: string;
  name: string;
}

interface Needed {
  arn?: string;
  healthCheck: boolean;
  tags: Record<string, string>;
}

/** Ensures a service's target group on its node port. */
export function ensureTargetGroupStep(r: TargetGroup, env: StackEnv): Step<Needed, TargetGroupRef> {
  const { aws } = env;
  const p = r.properties;
  const what = `target group ${r.name}`;
  return awsStep<Needed, TargetGroupRef>({
    name: ensureName(r.id),
    description: `target group ${r.name} (${p.protocol} ${p.port})`,
    dependsOn: [FIND_NETWORK],
    timeoutMs: 300_000,
    async check(ctx) {
      const net = networkOf(ctx);
      const tg = await aws.elbv2.describeTargetGroup(r.name);
      if (!tg) return { satisfied: false, reason: "missing", needed: { healthCheck: false, tags: {} } };
      if (tg.Port !== p.port || tg.Protocol !== p.protocol || tg.VpcId !== net.vpcId)
        throw new KubecontrolError(
          "PRECONDITION",
          `${what} listens on ${tg.Protocol} ${tg.Port} in ${tg.VpcId}; the plan wants ${p.protocol} ${p.port} in ${net.vpcId}`,
          {
            hint: "target groups cannot change port or VPC: tear the colour down, or deploy to the other colour",
          },
        );
      const needed: Needed = {
        arn: tg.TargetGroupArn!,
        healthCheck: p.healthCheckPath !== undefined && tg.HealthCheckPath !== p.healthCheckPath,
        tags: await elbTagsToSet(aws, tg.TargetGroupArn!, r, env, what),
      };
      if (!needed.healthCheck && !Object.keys(needed.tags).length)
        return { satisfied: true, reason: "in place", value: { arn: tg.TargetGroupArn!, name: r.name } };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(ctx, n) {
      if (n.arn) {
        if (n.healthCheck)
          await aws.elbv2.modifyTargetGroup(
            { TargetGroupArn: n.arn, HealthCheckPath: p.healthCheckPath },
            what,
          );
        if (Object.keys(n.tags).length) await aws.elbv2.addTags(n.arn, tagList(n.tags), what);
        return { arn: n.arn, name: r.name };
      }
      const net = networkOf(ctx);
      const tg = await createOrAdopt(
        () =>
          aws.elbv2.createTargetGroup({
            Name: r.name,
            Protocol: p.protocol,
            Port: p.port,
            VpcId: net.vpcId,
            TargetType: p.targetType,
            ...(p.healthCheckPath ? { HealthCheckPath: p.healthCheckPath, HealthCheckProtocol: "HTTP" } : {}),
            Tags: tagList(creationTags(r.tags, env.runId)),
          }),
        ownedFind(
          () => aws.elbv2.describeTargetGroup(r.name),
          async (tg) =>
            tagRecord((await aws.elbv2.describeTags([tg.TargetGroupArn!], what)).get(tg.TargetGroupArn!)),
          r,
          env,
        ),
        ["DuplicateTargetGroupName", "DuplicateTargetGroupNameException"],
      );
      return { arn: tg.TargetGroupArn!, name: r.name };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.arn ?? r.name}`,
  });
}
