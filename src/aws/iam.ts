import type * as Sdk from "@aws-sdk/client-iam";
import type { AwsOptions } from "./client-config.js";
import { awsCall, orAbsent } from "./errors.js";
import { allPages, lazyClient } from "./lazy.js";

type M = typeof Sdk;

/** The IAM calls kubecontrol makes: the cluster and node roles and the node instance profile. */
export class Iam {
  private readonly sdk;
  constructor(options: AwsOptions) {
    this.sdk = lazyClient(
      () => import("@aws-sdk/client-iam"),
      (m, c) => new m.IAMClient(c),
      options,
    );
  }

  private async run<T>(op: string, what: string, f: (m: M, c: Sdk.IAMClient) => Promise<T>): Promise<T> {
    const { m, client } = await this.sdk();
    return awsCall("iam", op, what, () => f(m, client));
  }

  /** One attempt only: the caller (createOrAdopt) looks for the resource before it tries again. */
  private async runOnce<T>(op: string, what: string, f: (m: M, c: Sdk.IAMClient) => Promise<T>): Promise<T> {
    const { m, once } = await this.sdk();
    return awsCall("iam", op, what, () => f(m, once));
  }

  /** A role (with its tags), or undefined. */
  getRole(name: string): Promise<Sdk.Role | undefined> {
    return orAbsent(
      () =>
        this.run(
          "GetRole",
          `role ${name}`,
          async (m, c) => (await c.send(new m.GetRoleCommand({ RoleName: name }))).Role,
        ),
      "NoSuchEntity",
      "NoSuchEntityException",
    );
  }

  /** Creates a role. */
  createRole(input: Sdk.CreateRoleCommandInput): Promise<Sdk.Role> {
    return this.runOnce(
      "CreateRole",
      `role ${input.RoleName}`,
      async (m, c) => (await c.send(new m.CreateRoleCommand(input))).Role!,
    );
  }

  /** Replaces a role's trust policy. */
  async updateAssumeRolePolicy(name: string, document: string): Promise<void> {
    await this.run("UpdateAssumeRolePolicy", `role ${name}`, (m, c) =>
      c.send(new m.UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: document })),
    );
  }

  /** Deletes a role (its policies must be detached first). */
  async deleteRole(name: string): Promise<void> {
    await this.run("DeleteRole", `role ${name}`, (m, c) =>
      c.send(new m.DeleteRoleCommand({ RoleName: name })),
    );
  }

  /** Names of the roles whose name starts with `prefix` (destroy's search for what a former spec made). */
  roleNames(prefix: string): Promise<string[]> {
    return this.run("ListRoles", "roles", async (m, c) => {
      const roles = await allPages(async (Marker) => {
        const r = await c.send(new m.ListRolesCommand({ Marker }));
        return { items: r.Roles, next: r.IsTruncated ? r.Marker : undefined };
      });
      return roles.map((r) => r.RoleName!).filter((n) => n.startsWith(prefix));
    });
  }

  /** Names of the instance profiles whose name starts with `prefix`. */
  instanceProfileNames(prefix: string): Promise<string[]> {
    return this.run("ListInstanceProfiles", "instance profiles", async (m, c) => {
      const profiles = await allPages(async (Marker) => {
        const r = await c.send(new m.ListInstanceProfilesCommand({ Marker }));
        return { items: r.InstanceProfiles, next: r.IsTruncated ? r.Marker : undefined };
      });
      return profiles.map((p) => p.InstanceProfileName!).filter((n) => n.startsWith(prefix));
    });
  }

  /** Names of the instance profiles a role is in. */
  profilesOfRole(role: string): Promise<string[]> {
    return this.run("ListInstanceProfilesForRole", `role ${role}`, async (m, c) => {
      const profiles = await allPages(async (Marker) => {
        const r = await c.send(new m.ListInstanceProfilesForRoleCommand({ RoleName: role, Marker }));
        return { items: r.InstanceProfiles, next: r.IsTruncated ? r.Marker : undefined };
      });
      return profiles.map((p) => p.InstanceProfileName!);
    });
  }

  /** Names of a role's inline policies. */
  inlinePolicies(role: string): Promise<string[]> {
    return this.run("ListRolePolicies", `role ${role}`, (m, c) =>
      allPages(async (Marker) => {
        const r = await c.send(new m.ListRolePoliciesCommand({ RoleName: role, Marker }));
        return { items: r.PolicyNames, next: r.IsTruncated ? r.Marker : undefined };
      }),
    );
  }

  /** An inline policy's document (URL-decoded JSON), or undefined when the role has none of that name. */
  inlinePolicy(role: string, policy: string): Promise<string | undefined> {
    return orAbsent(
      () =>
        this.run("GetRolePolicy", `role ${role}`, async (m, c) => {
          const doc = (await c.send(new m.GetRolePolicyCommand({ RoleName: role, PolicyName: policy })))
            .PolicyDocument;
          return doc === undefined ? undefined : decodeURIComponent(doc);
        }),
      "NoSuchEntity",
      "NoSuchEntityException",
    );
  }

  /** Writes an inline policy of a role (replacing one of the same name). */
  async putInlinePolicy(role: string, policy: string, document: string): Promise<void> {
    await this.run("PutRolePolicy", `role ${role}`, (m, c) =>
      c.send(new m.PutRolePolicyCommand({ RoleName: role, PolicyName: policy, PolicyDocument: document })),
    );
  }

  /** Deletes one inline policy of a role. */
  async deleteInlinePolicy(role: string, policy: string): Promise<void> {
    await this.run("DeleteRolePolicy", `role ${role}`, (m, c) =>
      c.send(new m.DeleteRolePolicyCommand({ RoleName: role, PolicyName: policy })),
    );
  }

  /** ARNs of the managed policies attached to a role. */
  attachedPolicies(name: string): Promise<string[]> {
    return this.run("ListAttachedRolePolicies", `role ${name}`, async (m, c) => {
      const all = await allPages(async (Marker) => {
        const r = await c.send(new m.ListAttachedRolePoliciesCommand({ RoleName: name, Marker }));
        return { items: r.AttachedPolicies, next: r.IsTruncated ? r.Marker : undefined };
      });
      return all.map((p) => p.PolicyArn!);
    });
  }

  /** Attaches a managed policy to a role. */
  async attachPolicy(name: string, policyArn: string): Promise<void> {
    await this.run("AttachRolePolicy", `role ${name}`, (m, c) =>
      c.send(new m.AttachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn })),
    );
  }

  /** Detaches a managed policy from a role. */
  async detachPolicy(name: string, policyArn: string): Promise<void> {
    await this.run("DetachRolePolicy", `role ${name}`, (m, c) =>
      c.send(new m.DetachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn })),
    );
  }

  /** Adds or overwrites tags of a role. */
  async tagRole(name: string, tags: Sdk.Tag[]): Promise<void> {
    await this.run("TagRole", `role ${name}`, (m, c) =>
      c.send(new m.TagRoleCommand({ RoleName: name, Tags: tags })),
    );
  }

  /** An instance profile (with its roles), or undefined. */
  getInstanceProfile(name: string): Promise<Sdk.InstanceProfile | undefined> {
    return orAbsent(
      () =>
        this.run(
          "GetInstanceProfile",
          `instance profile ${name}`,
          async (m, c) =>
            (await c.send(new m.GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile,
        ),
      "NoSuchEntity",
      "NoSuchEntityException",
    );
  }

  /** Creates an instance profile. */
  createInstanceProfile(name: string, tags: Sdk.Tag[]): Promise<Sdk.InstanceProfile> {
    return this.runOnce(
      "CreateInstanceProfile",
      `instance profile ${name}`,
      async (m, c) =>
        (await c.send(new m.CreateInstanceProfileCommand({ InstanceProfileName: name, Tags: tags })))
          .InstanceProfile!,
    );
  }

  /** Puts a role into an instance profile. */
  async addRoleToInstanceProfile(name: string, role: string): Promise<void> {
    await this.run("AddRoleToInstanceProfile", `instance profile ${name}`, (m, c) =>
      c.send(new m.AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: role })),
    );
  }

  /** Takes a role out of an instance profile. */
  async removeRoleFromInstanceProfile(name: string, role: string): Promise<void> {
    await this.run("RemoveRoleFromInstanceProfile", `instance profile ${name}`, (m, c) =>
      c.send(new m.RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: role })),
    );
  }

  /** Adds or overwrites tags of an instance profile. */
  async tagInstanceProfile(name: string, tags: Sdk.Tag[]): Promise<void> {
    await this.run("TagInstanceProfile", `instance profile ${name}`, (m, c) =>
      c.send(new m.TagInstanceProfileCommand({ InstanceProfileName: name, Tags: tags })),
    );
  }

  /** Deletes an instance profile (empty of roles). */
  async deleteInstanceProfile(name: string): Promise<void> {
    await this.run("DeleteInstanceProfile", `instance profile ${name}`, (m, c) =>
      c.send(new m.DeleteInstanceProfileCommand({ InstanceProfileName: name })),
    );
  }
}
