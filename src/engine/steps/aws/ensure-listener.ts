import type { Listener as AwsListener } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KubecontrolError } from "../../../errors.js";
import type { Listener } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import { elbTagsToSet } from "./elb-tags.js";
import {
  awsStep,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  resultOf,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

interface Desired {
  targetGroupArn: string;
  certificateArn?: string;
}

interface Needed {
  arn?: string;
  modify: boolean;
  tags: Record<string, string>;
}

function differs(r: Listener, l: AwsListener, d: Desired): boolean {
  const forward = l.DefaultActions?.find((a) => a.Type === "forward");
  const target = forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
  return (
    l.Protocol !== r.properties.protocol ||
    target !== d.targetGroupArn ||
    (l.Certificates?.[0]?.CertificateArn ?? undefined) !== d.certificateArn ||
    (r.properties.sslPolicy !== undefined && l.SslPolicy !== r.properties.sslPolicy)
  );
}

/** Ensures a listener of the load balancer forwarding to the service's target group. */
export function ensureListenerStep(r: Listener, env: StackEnv): Step<Needed, { arn: string }> {
  const { aws } = env;
  const p = r.properties;
  const what = `listener ${r.name}`;
  let certificate: Promise<string | undefined> | undefined;
  const desired = async (ctx: StepContext): Promise<Desired> => {
    const targetGroupArn = resultOf(ctx, p.targetGroup).arn;
    if (!p.certificateDomain) return { targetGroupArn };
    certificate ??= aws.acm.certificateFor(p.certificateDomain);
    const certificateArn = await certificate;
    if (!certificateArn)
      throw new KubecontrolError("PRECONDITION", `no issued ACM certificate for ${p.certificateDomain}`, {
        hint: `request (and validate) a certificate that covers ${p.certificateDomain} (by name, alternative name or wildcard) in ACM in this region`,
      });
    return { targetGroupArn, certificateArn };
  };
  const find = async (ctx: StepContext) => {
    const lb = resultOf(ctx, p.loadBalancer);
    return (await aws.elbv2.listListeners(lb.arn, what)).find((l) => l.Port === p.port);
  };
  const settings = (d: Desired) => ({
    Protocol: p.protocol,
    ...(d.certificateArn ? { Certificates: [{ CertificateArn: d.certificateArn }] } : {}),
    ...(p.sslPolicy ? { SslPolicy: p.sslPolicy } : {}),
    DefaultActions: [{ Type: "forward" as const, TargetGroupArn: d.targetGroupArn }],
  });
  return awsStep<Needed, { arn: string }>({
    name: ensureName(r.id),
    description: `${p.protocol} listener on port ${p.port}`,
    dependsOn: [ensureName(p.loadBalancer), ensureName(p.targetGroup)],
    timeoutMs: 300_000,
    async check(ctx) {
      const d = await desired(ctx);
      const l = await find(ctx);
      if (!l) return { satisfied: false, reason: "missing", needed: { modify: false, tags: {} } };
      const needed: Needed = {
        arn: l.ListenerArn!,
        modify: differs(r, l, d),
        tags: await elbTagsToSet(aws, l.ListenerArn!, r, env, what),
      };
      if (!needed.modify && !Object.keys(needed.tags).length)
        return { satisfied: true, reason: "in place", value: { arn: l.ListenerArn! } };
      return { satisfied: false, reason: "differs", needed };
    },
    async apply(ctx, n) {
      const d = await desired(ctx);
      if (n.arn) {
        if (n.modify) await aws.elbv2.modifyListener({ ListenerArn: n.arn, ...settings(d) }, what);
        if (Object.keys(n.tags).length) await aws.elbv2.addTags(n.arn, tagList(n.tags), what);
        return { arn: n.arn };
      }
      const lb = resultOf(ctx, p.loadBalancer);
      const l = await createOrAdopt(
        () =>
          aws.elbv2.createListener(
            {
              LoadBalancerArn: lb.arn,
              Port: p.port,
              ...settings(d),
              Tags: tagList(creationTags(r.tags, env.runId)),
            },
            what,
          ),
        ownedFind(
          () => find(ctx),
          async (l) => tagRecord((await aws.elbv2.describeTags([l.ListenerArn!], what)).get(l.ListenerArn!)),
          r,
          env,
        ),
        ["DuplicateListener", "DuplicateListenerException"],
      );
      return { arn: l.ListenerArn! };
    },
  });
}
