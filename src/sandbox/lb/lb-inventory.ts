import { type ACMClient, DescribeCertificateCommand } from "@aws-sdk/client-acm";
import {
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  paginateDescribeLoadBalancers,
} from "@aws-sdk/client-elastic-load-balancing-v2";

/** A listener the sandbox serves on its load balancer's loopback address. */
export interface LoopbackListener {
  loadBalancerArn: string;
  address: string;
  port: number;
  protocol: "HTTP" | "HTTPS";
  /** Domain names of the listener's ACM certificates, default first. */
  certificateDomains: string[];
  targetGroupArns: string[];
}

/** A target group's registered targets, as ELBv2 lists them. */
export interface TargetGroupTargets {
  targetGroupArn: string;
  healthCheckPath: string;
  targets: { id: string; port: number; state: string }[];
}

const isLoopback = (name: string | undefined) => /^127\.\d+\.\d+\.\d+$/.test(name ?? "");

/** Every listener of every load balancer whose DNSName is a loopback address (the sandbox's). */
export async function listLoopbackListeners(
  elb: ElasticLoadBalancingV2Client,
  acm: ACMClient,
): Promise<LoopbackListener[]> {
  const out: LoopbackListener[] = [];
  const domains = new Map<string, string>();
  for await (const page of paginateDescribeLoadBalancers({ client: elb }, {})) {
    for (const lb of page.LoadBalancers ?? []) {
      if (!lb.LoadBalancerArn || !isLoopback(lb.DNSName)) continue;
      const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      for (const l of listeners.Listeners ?? []) {
        if (!l.Port || (l.Protocol !== "HTTP" && l.Protocol !== "HTTPS")) continue;
        const groups = new Set<string>();
        for (const action of l.DefaultActions ?? []) {
          if (action.TargetGroupArn) groups.add(action.TargetGroupArn);
          for (const tg of action.ForwardConfig?.TargetGroups ?? [])
            if (tg.TargetGroupArn) groups.add(tg.TargetGroupArn);
        }
        const certificateDomains: string[] = [];
        for (const cert of l.Certificates ?? []) {
          if (!cert.CertificateArn) continue;
          let domain = domains.get(cert.CertificateArn);
          if (!domain) {
            const described = await acm.send(
              new DescribeCertificateCommand({ CertificateArn: cert.CertificateArn }),
            );
            domain = described.Certificate?.DomainName ?? "";
            domains.set(cert.CertificateArn, domain);
          }
          if (domain) certificateDomains.push(domain);
        }
        out.push({
          loadBalancerArn: lb.LoadBalancerArn,
          address: lb.DNSName!,
          port: l.Port,
          protocol: l.Protocol,
          certificateDomains,
          targetGroupArns: [...groups],
        });
      }
    }
  }
  return out;
}

/** The registered targets of the given target groups, with their health check path. */
export async function listTargets(
  elb: ElasticLoadBalancingV2Client,
  arns: string[],
): Promise<TargetGroupTargets[]> {
  if (arns.length === 0) return [];
  const groups = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns }));
  const result: TargetGroupTargets[] = [];
  for (const group of groups.TargetGroups ?? []) {
    if (!group.TargetGroupArn) continue;
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }));
    result.push({
      targetGroupArn: group.TargetGroupArn,
      healthCheckPath: group.HealthCheckPath ?? "/",
      targets: (health.TargetHealthDescriptions ?? []).flatMap((d) =>
        d.Target?.Id
          ? [{ id: d.Target.Id, port: d.Target.Port ?? group.Port ?? 0, state: d.TargetHealth?.State ?? "" }]
          : [],
      ),
    });
  }
  return result;
}
