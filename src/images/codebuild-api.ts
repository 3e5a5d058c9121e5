import type * as Sdk from "@aws-sdk/client-codebuild";
import { instrument } from "../aws/client-config.js";
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
  instrument(client as never);
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
