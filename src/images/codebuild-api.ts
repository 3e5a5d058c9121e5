import type * as Sdk from "@aws-sdk/client-codebuild";
import { type AwsClientOptions, imageSdkConfig } from "./ecr-images.js";

/**
 * The CodeBuild calls the image builder makes. A narrow interface so a test can stand in for
 * CodeBuild where moto cannot act it out (failed and timed-out builds). Until src/aws has a
 * CodeBuild client, this adapter is the production one.
 */
export interface CodeBuildApi {
  getProject(name: string): Promise<Sdk.Project | undefined>;
  createProject(input: Sdk.CreateProjectInput): Promise<void>;
  updateProject(input: Sdk.UpdateProjectInput): Promise<void>;
  startBuild(input: Sdk.StartBuildInput): Promise<Sdk.Build>;
  getBuild(id: string): Promise<Sdk.Build | undefined>;
  /** The project's most recent builds, newest first (one page). */
  recentBuilds(project: string): Promise<Sdk.Build[]>;
  /** Removes the project (destroy). */
  deleteProject(name: string): Promise<void>;
}

/** The SDK-backed CodeBuild API (the SDK module loaded on first use). */
export async function sdkCodeBuildApi(options: AwsClientOptions): Promise<CodeBuildApi> {
  const m = await import("@aws-sdk/client-codebuild");
  const client = new m.CodeBuildClient(imageSdkConfig(options));
  client.middlewareStack.addRelativeTo(isoTimestampsAsEpoch, {
    name: "kubecontrolIsoTimestampsAsEpoch",
    relation: "after",
    toMiddleware: "deserializerMiddleware",
  });
  return {
    async getProject(name) {
      return (await client.send(new m.BatchGetProjectsCommand({ names: [name] }))).projects?.[0];
    },
    async createProject(input) {
      await client.send(new m.CreateProjectCommand(input));
    },
    async updateProject(input) {
      await client.send(new m.UpdateProjectCommand(input));
    },
    async startBuild(input) {
      const build = (await client.send(new m.StartBuildCommand(input))).build;
      if (!build?.id) throw new Error("StartBuild answered no build");
      return build;
    },
    async getBuild(id) {
      return (await client.send(new m.BatchGetBuildsCommand({ ids: [id] }))).builds?.[0];
    },
    async deleteProject(name) {
      await client.send(new m.DeleteProjectCommand({ name }));
    },
    async recentBuilds(project) {
      const ids = (
        await client.send(
          new m.ListBuildsForProjectCommand({ projectName: project, sortOrder: "DESCENDING" }),
        )
      ).ids?.slice(0, 20);
      if (!ids?.length) return [];
      return (await client.send(new m.BatchGetBuildsCommand({ ids }))).builds ?? [];
    },
  };
}

const TIMESTAMP_FIELD =
  /"(\w*(?:Time|time|created|Date|lastModified))":\s*"(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))"/g;

/**
 * CodeBuild's JSON protocol sends timestamps as epoch seconds; moto 5.2 sends builds' as ISO
 * strings, which the SDK refuses ("Expected real number"). Until the sandbox mends that, ISO
 * timestamps are turned into epoch seconds before the SDK reads the response; on AWS, which
 * sends numbers, this changes nothing.
 */
// biome-ignore lint/suspicious/noExplicitAny: the middleware signature is the SDK's untyped handler chain
function isoTimestampsAsEpoch(next: any) {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return async (args: any) => {
    const out = await next(args);
    const body = out?.response?.body;
    if (!body || typeof body.on !== "function") return out;
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    const text = Buffer.concat(chunks)
      .toString("utf8")
      .replace(TIMESTAMP_FIELD, (_all, key: string, iso: string) => `"${key}": ${Date.parse(iso) / 1000}`);
    out.response.body = new TextEncoder().encode(text);
    return out;
  };
}
