import type { RequestLaunchTemplateData, ResponseLaunchTemplateData } from "@aws-sdk/client-ec2";
import { KubecontrolError } from "../../../errors.js";
import type { LaunchTemplate } from "../../../plan/aws-types.js";
import { nodeUserData } from "../../../plan/node-user-data.js";
import type { Step, StepContext } from "../../step.js";
import {
  awsStep,
  claimTags,
  createOrAdopt,
  creationTags,
  ensureName,
  ownedFind,
  resultOf,
  type StackEnv,
  tagList,
  tagRecord,
} from "./stack-env.js";

/** What the Auto Scaling Group needs of a launch template. */
export interface LaunchTemplateRef {
  id: string;
  name: string;
}

interface Needed {
  id?: string;
  data: RequestLaunchTemplateData;
  newVersion: boolean;
  tags: Record<string, string>;
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
  env: StackEnv,
): Promise<RequestLaunchTemplateData> {
  const p = r.properties;
  const cluster = resultOf(ctx, p.cluster);
  const profile = resultOf(ctx, p.instanceProfile);
  const groups = p.securityGroups.map((g) => resultOf(ctx, g).id);
  const ami = await env.aws.ssm.parameter(p.amiParameter);
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
export function ensureLaunchTemplateStep(r: LaunchTemplate, env: StackEnv): Step<Needed, LaunchTemplateRef> {
  const { ec2 } = env.aws;
  const p = r.properties;
  const what = `launch template ${r.name}`;
  const find = async () =>
    (await ec2.describeLaunchTemplates([{ Name: "launch-template-name", Values: [r.name] }], what))[0];
  return awsStep<Needed, LaunchTemplateRef>({
    name: ensureName(r.id),
    description: `launch template ${r.name} (pool ${p.pool})`,
    dependsOn: [ensureName(p.cluster), ensureName(p.instanceProfile), ...p.securityGroups.map(ensureName)],
    timeoutMs: 300_000,
    async check(ctx) {
      const data = await desiredData(r, ctx, env);
      const lt = await find();
      if (!lt) return { satisfied: false, reason: "missing", needed: { data, newVersion: false, tags: {} } };
      const current = await ec2.describeLaunchTemplateVersion(lt.LaunchTemplateId!, "$Default", what);
      const newVersion = comparable(current?.LaunchTemplateData) !== comparable(data);
      const tags = claimTags(r, tagRecord(lt.Tags), env);
      const value = { id: lt.LaunchTemplateId!, name: r.name };
      if (!newVersion && Object.keys(tags).length === 0)
        return { satisfied: true, reason: `version ${lt.DefaultVersionNumber}`, value };
      return {
        satisfied: false,
        reason: newVersion ? "node configuration differs" : "tags differ",
        needed: { id: lt.LaunchTemplateId!, data, newVersion, tags },
      };
    },
    async apply(_ctx, n) {
      if (!n.id) {
        const id = await createOrAdopt(
          () =>
            ec2.createLaunchTemplate({
              LaunchTemplateName: r.name,
              LaunchTemplateData: n.data,
              TagSpecifications: [
                { ResourceType: "launch-template", Tags: tagList(creationTags(r.tags, env.runId)) },
              ],
            }),
          async () => (await ownedFind(find, (lt) => tagRecord(lt.Tags), r, env)())?.LaunchTemplateId,
          ["InvalidLaunchTemplateName.AlreadyExistsException"],
        );
        return { id, name: r.name };
      }
      if (Object.keys(n.tags).length) await ec2.createTags(n.id, tagList(n.tags), what);
      if (n.newVersion) {
        const id = n.id;
        // A version whose answer was lost is found as the latest with the same data, not made again.
        const version = await createOrAdopt(() =>
          ec2.createLaunchTemplateVersion(id, n.data, what), async () => {
          const latest = await ec2.describeLaunchTemplateVersion(id, "$Latest", what);
          return comparable(latest?.LaunchTemplateData) === comparable(n.data)
            ? latest?.VersionNumber
            : undefined;
        }, []);
        await ec2.setDefaultLaunchTemplateVersion(id, version, what);
      }
      return { id: n.id, name: r.name };
    },
    summarize: (changed, ref) => `${changed ? "made" : "found"} ${ref?.id ?? r.name}`,
  });
}
