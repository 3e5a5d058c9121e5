import type { Listener as AwsListener } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KubecontrolError } from "../../../errors.js";
import type { Listener } from "../../../plan/aws-types.js";
import type { Step, StepContext } from "../../step.js";
import { elbTags } from "./elb-tags.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { ensureName, resultOf, type StackEnv, tagList } from "./stack-env.js";

interface Desired {
  targetGroupArn: string;
  certificateArn?: string;
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
export function ensureListenerStep(
  r: Listener,
  env: StackEnv,
): Step<EnsureNeeded<AwsListener, { modify: boolean }>, { arn: string }> {
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
  return ensureStep<AwsListener, { modify: boolean }, { arn: string }>({
    r,
    env,
    description: `${p.protocol} listener on port ${p.port}`,
    dependsOn: [ensureName(p.loadBalancer), ensureName(p.targetGroup)],
    timeoutMs: 300_000,
    find,
    tagsOf: (l) => elbTags(aws, l.ListenerArn!, what),
    // The certificate is looked up even for a listener to be made: a missing one fails the check.
    diff: async (ctx, l) => {
      const d = await desired(ctx);
      return { modify: l !== undefined && differs(r, l, d) };
    },
    create: async (ctx, tags) =>
      aws.elbv2.createListener(
        {
          LoadBalancerArn: resultOf(ctx, p.loadBalancer).arn,
          Port: p.port,
          ...settings(await desired(ctx)),
          Tags: tagList(tags),
        },
        what,
      ),
    alreadyExists: ["DuplicateListener", "DuplicateListenerException"],
    tag: (_ctx, l, tags) => aws.elbv2.addTags(l.ListenerArn!, tagList(tags), what),
    async change(ctx, l, d) {
      if (d.modify)
        await aws.elbv2.modifyListener(
          { ListenerArn: l.ListenerArn!, ...settings(await desired(ctx)) },
          what,
        );
    },
    ref: (l) => ({ arn: l.ListenerArn! }),
  });
}
