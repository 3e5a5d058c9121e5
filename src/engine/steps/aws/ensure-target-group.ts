import type { TargetGroup as AwsTargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KubecontrolError } from "../../../errors.js";
import type { TargetGroup } from "../../../plan/aws-types.js";
import type { Step } from "../../step.js";
import { elbTags } from "./elb-tags.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { FIND_NETWORK, networkOf, type StackEnv, tagList } from "./stack-env.js";

/** What listeners and Auto Scaling Groups need of a target group. */
export interface TargetGroupRef {
  arn: string;
  name: string;
}

/** Ensures a service's target group on its node port. */
export function ensureTargetGroupStep(
  r: TargetGroup,
  env: StackEnv,
): Step<EnsureNeeded<AwsTargetGroup, { healthCheck: boolean }>, TargetGroupRef> {
  const { aws } = env;
  const p = r.properties;
  const what = `target group ${r.name}`;
  return ensureStep<AwsTargetGroup, { healthCheck: boolean }, TargetGroupRef>({
    r,
    env,
    description: `target group ${r.name} (${p.protocol} ${p.port})`,
    dependsOn: [FIND_NETWORK],
    timeoutMs: 300_000,
    find: () => aws.elbv2.describeTargetGroup(r.name),
    tagsOf: (tg) => elbTags(aws, tg.TargetGroupArn!, what),
    diff(ctx, tg) {
      const net = networkOf(ctx);
      if (!tg) return { healthCheck: false };
      if (tg.Port !== p.port || tg.Protocol !== p.protocol || tg.VpcId !== net.vpcId)
        throw new KubecontrolError(
          "PRECONDITION",
          `${what} listens on ${tg.Protocol} ${tg.Port} in ${tg.VpcId}; the plan wants ${p.protocol} ${p.port} in ${net.vpcId}`,
          {
            hint: "target groups cannot change port or VPC: tear the colour down, or deploy to the other colour",
          },
        );
      return { healthCheck: p.healthCheckPath !== undefined && tg.HealthCheckPath !== p.healthCheckPath };
    },
    create: (ctx, tags) =>
      aws.elbv2.createTargetGroup({
        Name: r.name,
        Protocol: p.protocol,
        Port: p.port,
        VpcId: networkOf(ctx).vpcId,
        TargetType: p.targetType,
        ...(p.healthCheckPath ? { HealthCheckPath: p.healthCheckPath, HealthCheckProtocol: "HTTP" } : {}),
        Tags: tagList(tags),
      }),
    alreadyExists: ["DuplicateTargetGroupName", "DuplicateTargetGroupNameException"],
    tag: (_ctx, tg, tags) => aws.elbv2.addTags(tg.TargetGroupArn!, tagList(tags), what),
    async change(_ctx, tg, d) {
      if (d.healthCheck)
        await aws.elbv2.modifyTargetGroup(
          { TargetGroupArn: tg.TargetGroupArn!, HealthCheckPath: p.healthCheckPath },
          what,
        );
    },
    ref: (tg) => ({ arn: tg.TargetGroupArn!, name: r.name }),
    summary: (ref) => ref.arn,
  });
}
