import { AcmApi, SecretsApi, SsmApi, StsApi } from "./account.js";
import { AutoScaling } from "./autoscaling.js";
import type { AwsOptions } from "./client-config.js";
import { Ec2 } from "./ec2.js";
import { Ecr } from "./ecr.js";
import { Eks } from "./eks.js";
import { Elbv2 } from "./elbv2.js";
import { Iam } from "./iam.js";
import { Route53 } from "./route53.js";
import { ServiceQuotas } from "./service-quotas.js";

export type { AwsOptions } from "./client-config.js";

/** The narrow AWS clients kubecontrol uses; each SDK package loads on its first call. */
export interface Aws {
  region: string | undefined;
  ec2: Ec2;
  eks: Eks;
  autoscaling: AutoScaling;
  ecr: Ecr;
  elbv2: Elbv2;
  route53: Route53;
  iam: Iam;
  sts: StsApi;
  ssm: SsmApi;
  acm: AcmApi;
  secrets: SecretsApi;
  quotas: ServiceQuotas;
}

/** Builds the AWS clients for one region; credentials and profile come from the SDK's chain. */
export function createAws(options: AwsOptions = {}): Aws {
  // Route 53 and IAM are global; the SDK still wants a region to sign with.
  return {
    region: options.region,
    ec2: new Ec2(options),
    eks: new Eks(options),
    autoscaling: new AutoScaling(options),
    ecr: new Ecr(options),
    elbv2: new Elbv2(options),
    route53: new Route53(options),
    iam: new Iam(options),
    sts: new StsApi(options),
    ssm: new SsmApi(options),
    acm: new AcmApi(options),
    secrets: new SecretsApi(options),
    quotas: new ServiceQuotas(options),
  };
}
