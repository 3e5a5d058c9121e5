import type {
  LaunchTemplate as AwsTemplate,
  RequestLaunchTemplateData,
  ResponseLaunchTemplateData,
} from "@aws-sdk/client-ec2";
import { KubecontrolError } from "../../../errors.js";
import type { LaunchTemplate } from "../../../plan/aws-types.js";
import { nodeUserData } from "../../../plan/node-user-data.js";
import type { Step, StepContext } from "../../step.js";
import { type EnsureNeeded, ensureStep } from "./ensure-step.js";
import { createOrAdopt, ensureName, resultOf, type StackEnv, tagList, tagRecord } from "./stack-env.js";

/** What the Auto Scaling Group needs of a launch template. */
export interface LaunchTemplateRef {
  id: string;
  name: string;
}

interface Changes {
  /** The data of a new default version. */
  nodeConfiguration?: RequestLaunchTemplateData;
}

/** The part of launch template data kubecontrol sets, in a form equal data compares equal. */
function comparable(d: RequestLaunchTemplateData | ResponseLaunchTemplateData | undefined): string {
  return JSON.stringify({
    image: d?.ImageId,
    profile: d?.IamInstanceProfile?.Arn,
    groups: [...(d?.SecurityGroupIds ?? [])].sort(),
    userData: d?.UserData,
    disk: d?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize,
    imds: d?.MetadataOptions?.HttpTokens,
  });
}

async function desiredData(
  r: LaunchTemplate,
  ctx: StepContext,
  amiParameter: Promise<string | undefined>,
): Promise<RequestLaunchTemplateData> {
  const p = r.properties;
  const cluster = resultOf(ctx, p.cluster);
  const profile = resultOf(ctx, p.instanceProfile);
  const groups = p.securityGroups.map((g) => resultOf(ctx, g).id);
  const ami = await amiParameter;
  if (!ami)
    throw new KubecontrolError("PRECONDITION", `no EKS AMI parameter ${p.amiParameter}`, {
      hint: "check the Kubernetes version and architecture: EKS publishes AMIs for supported versions only",
    });
  const instanceTags = tagList(r.tags);
  return {
    ImageId: ami,
    IamInstanceProfile: { Arn: profile.arn },
    SecurityGroupIds: groups,
    UserData: nodeUserData({
      clusterName: cluster.name,
      endpoint: cluster.endpoint,
      certificateAuthority: cluster.certificateAuthority,
      serviceCidr: cluster.serviceCidr,
      labels: p.nodeLabels,
      taints: p.nodeTaints,
    }),
    BlockDeviceMappings: [
      {
        DeviceName: "/dev/xvda",
        Ebs: { VolumeSize: p.diskGiB, VolumeType: "gp3", Encrypted: true, DeleteOnTermination: true },
      },
    ],
    // IMDSv2 only; two hops so that pods on the host network still reach it.
    MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 2, HttpEndpoint: "enabled" },
    TagSpecifications: [
      { ResourceType: "instance", Tags: instanceTags },
      { ResourceType: "volume", Tags: instanceTags },
    ],
  };
}

/** Ensures a pool's launch template; a change of its data becomes a new default version. */
export function ensureLaunchTemplateStep(
  r: LaunchTemplate,
  env: StackEnv,
): Step<EnsureNeeded<AwsTemplate, Changes>, LaunchTemplateRef> {
  const { ec2 } = env.aws;
  const p = r.properties;
  const what = `launch template ${r.name}`;
  // The AMI is looked up once for the check and the create or change after it.
  let ami: Promise<string | undefined> | undefined;
  const data = (ctx: StepContext) => {
    ami ??= env.aws.ssm.parameter(p.amiParameter);
    return desiredData(r, ctx, ami);
  };
  return ensureStep<AwsTemplate, Changes, LaunchTemplateRef>({
    r,
    env,
    description: `launch template ${r.name} (pool ${p.pool})`,
    dependsOn: [ensureName(p.cluster), ensureName(p.instanceProfile), ...p.securityGroups.map(ensureName)],
    timeoutMs: 300_000,
    find: async () =>
      (await ec2.describeLaunchTemplates([{ Name: "launch-template-name", Values: [r.name] }], what))[0],
    tagsOf: (lt) => tagRecord(lt.Tags),
    // The node configuration is worked out even for a template to be made: a missing AMI fails the check.
    async diff(ctx, lt) {
      const want = await data(ctx);
      if (!lt) return {};
      const current = await ec2.describeLaunchTemplateVersion(lt.LaunchTemplateId!, "$Default", what);
      return {
        nodeConfiguration: comparable(current?.LaunchTemplateData) !== comparable(want) ? want : undefined,
      };
    },
    create: async (ctx, tags) => ({
      LaunchTemplateId: await ec2.createLaunchTemplate({
        LaunchTemplateName: r.name,
        LaunchTemplateData: await data(ctx),
        TagSpecifications: [{ ResourceType: "launch-template", Tags: tagList(tags) }],
      }),
    }),
    alreadyExists: ["InvalidLaunchTemplateName.AlreadyExistsException"],
    tag: (_ctx, lt, tags) => ec2.createTags(lt.LaunchTemplateId!, tagList(tags), what),
    async change(_ctx, lt, d) {
      const want = d.nodeConfiguration;
      if (!want) return;
      const id = lt.LaunchTemplateId!;
      // A version whose answer was lost is found as the latest with the same data, not made again.
      const version = await createOrAdopt(() => ec2.createLaunchTemplateVersion(id, want, what), async () => {
        const latest = await ec2.describeLaunchTemplateVersion(id, "$Latest", what);
        return comparable(latest?.LaunchTemplateData) === comparable(want)
          ? latest?.VersionNumber
          : undefined;
      }, []);
      await ec2.setDefaultLaunchTemplateVersion(id, version, what);
    },
    ref: (lt) => ({ id: lt.LaunchTemplateId!, name: r.name }),
    inPlace: (lt) => `version ${lt.DefaultVersionNumber}`,
    summary: (ref) => ref.id,
  });
}
