import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { KubecontrolError } from "../errors.js";
import { registerSecret } from "../io/redact.js";
import { companyDefaults } from "../spec/defaults/company.js";
import { parseDuration, REGION } from "../spec/primitives.js";
import { formatPath, problemsFromZod } from "../spec/problems.js";

/**
 * Operator settings: where the shared store lives, which image builder, defaults for apps. They
 * belong to the host, not to an app, so they come from a file and the environment, never from apps/.
 */
const configSchema = z.strictObject({
  region: z.string().regex(REGION, { error: 'expected an AWS region such as "us-east-1"' }),
  dnsZone: z.string().min(3),
  stateDir: z.string().min(1),
  historyStore: z
    .string()
    .regex(/^(sqlite|postgres(ql)?:\/\/.+)$/, { error: 'expected "sqlite" or a postgres:// URL' }),
  imageBuilder: z.enum(["buildah", "codebuild"], { error: "expected buildah or codebuild" }),
  concurrency: z.coerce.number().int().min(1).max(64),
  lockTimeout: z.string().regex(/^\d+(s|m|h)$/, { error: 'expected a duration such as "90s" or "15m"' }),
  requestTimeout: z
    .string()
    .regex(/^\d+(s|m)$/, { error: 'expected a duration such as "30s" or "2m"' })
    .refine((v) => (parseDuration(v) ?? 0) >= 1, { error: "expected at least 1s" }),
  resolverCache: z.string().regex(/^(ttl|\d+(s|m|h))$/, {
    error: 'expected "ttl" (the record\'s own TTL) or a duration such as "0s" or "5m"',
  }),
  interfaceWait: z.string().regex(/^\d+(s|m|h)$/, { error: 'expected a duration such as "90s" or "10m"' }),
  gcIdleAfter: z.string().regex(/^\d+(s|m|h)$/, { error: 'expected a duration such as "12h" or "90m"' }),
  notifyWebhooks: z.preprocess(
    listOf,
    z.array(
      z.string().regex(/^https?:\/\/[^\s/]+/, {
        error: "expected an http:// or https:// webhook URL",
      }),
    ),
  ),
  notifyOn: z.preprocess(
    listOf,
    z
      .array(z.enum(["failure", "success"], { error: 'expected "failure" or "success"' }))
      .min(1, { error: 'expected "failure", "success" or both' }),
  ),
  notifyTimeout: z
    .string()
    .regex(/^\d+(s|m)$/, { error: 'expected a duration such as "10s" or "1m"' })
    .refine((v) => (parseDuration(v) ?? 0) >= 1, { error: "expected at least 1s" }),
});

/** A list from YAML, or from one string (the environment) of items separated by commas or spaces. */
function listOf(v: unknown): unknown {
  return typeof v === "string"
    ? v
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    : v;
}

/** Settings whose values may hold a credential: never echoed in an error, whatever their shape. */
const SECRET_SETTINGS: readonly string[] = ["historyStore", "notifyWebhooks"];

export type OperatorConfig = z.output<typeof configSchema>;
export type ConfigKey = keyof OperatorConfig;

/** Where a value came from: a default, the file, or an environment variable. */
export type ConfigSource =
  | { kind: "default" }
  | { kind: "file"; path: string }
  | { kind: "env"; name: string };

export interface ResolvedConfig {
  values: OperatorConfig;
  sources: Record<ConfigKey, ConfigSource>;
  file: string | undefined;
}

/** Environment variables, in the order they are read (first set wins). */
export const CONFIG_ENV: Record<ConfigKey, string[]> = {
  region: ["KUBECONTROL_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"],
  dnsZone: ["KUBECONTROL_DNS_ZONE"],
  stateDir: ["KUBECONTROL_STATE_DIR"],
  historyStore: ["KUBECONTROL_HISTORY_STORE"],
  imageBuilder: ["KUBECONTROL_IMAGE_BUILDER"],
  concurrency: ["KUBECONTROL_CONCURRENCY"],
  lockTimeout: ["KUBECONTROL_LOCK_TIMEOUT"],
  requestTimeout: ["KUBECONTROL_REQUEST_TIMEOUT"],
  resolverCache: ["KUBECONTROL_RESOLVER_CACHE"],
  interfaceWait: ["KUBECONTROL_INTERFACE_WAIT"],
  gcIdleAfter: ["KUBECONTROL_GC_IDLE_AFTER"],
  notifyWebhooks: ["KUBECONTROL_NOTIFY_WEBHOOKS"],
  notifyOn: ["KUBECONTROL_NOTIFY_ON"],
  notifyTimeout: ["KUBECONTROL_NOTIFY_TIMEOUT"],
};

/** What each key means, for `kubecontrol config` and the README. */
export const CONFIG_HELP: Record<ConfigKey, string> = {
  region: "AWS region for apps whose spec names none",
  dnsZone: "zone of the default DNS record <app>.<zone>",
  stateDir: "directory of the shared store (history, leases) on this host",
  historyStore: '"sqlite" (a file in stateDir) or a postgres:// URL for a fleet of hosts',
  imageBuilder: "how images are built: buildah (local) or codebuild (AWS CodeBuild)",
  concurrency: "how many steps run at once",
  lockTimeout:
    "how long a lease lives without a heartbeat before another run may take it over; at least twice the lease margin (requestTimeout plus connecting and 2s)",
  requestTimeout:
    "how long one AWS or Kubernetes request may take; a run stops changing things once its lease is valid for less than this (plus connecting and 2s)",
  resolverCache:
    'how long DNS resolvers may keep an old answer: "ttl" (the record\'s TTL) or a duration; update waits this long after switching DNS before removing the old colour',
  interfaceWait:
    "how long removing a colour waits for network interfaces to let go of its security groups (a load balancer's linger for minutes after it is deleted)",
  gcIdleAfter:
    "how old an idle colour that was never switched to (left by a failed update) must be before gc removes it",
  notifyWebhooks:
    "webhook URLs (Slack-compatible) told how a create, update, rollout, teardown or destroy ended; secret: shown by host only, never logged or stored",
  notifyOn:
    'when to notify: "failure" (failed or cancelled), "success" (succeeded or nothing to do), or both',
  notifyTimeout: "how long notifying may take in all at the end of a run, retries included",
};

/** The state directory everyone on a kubecontrol host shares (setgid, group deployers). */
export const SHARED_STATE_DIR = "/var/lib/kubecontrol";

function defaults(env: NodeJS.ProcessEnv): OperatorConfig {
  const stateHome = env.XDG_STATE_HOME ?? path.join(homedir(), ".local", "state");
  // The host's shared directory when the operator has made it (see README), else a personal one.
  const shared = existsSync(SHARED_STATE_DIR);
  return {
    region: companyDefaults.region,
    dnsZone: companyDefaults.dnsZone,
    stateDir: shared ? SHARED_STATE_DIR : path.join(stateHome, "kubecontrol"),
    historyStore: "sqlite",
    imageBuilder: "buildah",
    concurrency: 8,
    lockTimeout: "2m",
    requestTimeout: "30s",
    resolverCache: "ttl",
    interfaceWait: "10m",
    gcIdleAfter: "24h",
    notifyWebhooks: [],
    notifyOn: ["failure"],
    notifyTimeout: "10s",
  };
}

/** The configuration file in force: --config, $KUBECONTROL_CONFIG, ~/.config/kubecontrol/config.yaml, /etc/kubecontrol/config.yaml. */
export function configFilePath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (explicit) return explicit;
  if (env.KUBECONTROL_CONFIG) return env.KUBECONTROL_CONFIG;
  const user = path.join(
    env.XDG_CONFIG_HOME ?? path.join(homedir(), ".config"),
    "kubecontrol",
    "config.yaml",
  );
  if (existsSync(user)) return user;
  return existsSync("/etc/kubecontrol/config.yaml") ? "/etc/kubecontrol/config.yaml" : undefined;
}

/** Reads defaults, then the file, then the environment (later wins), and validates the result. */
export async function loadConfig(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedConfig> {
  const values: Record<string, unknown> = { ...defaults(env) };
  const sources = Object.fromEntries(Object.keys(values).map((k) => [k, { kind: "default" }])) as Record<
    ConfigKey,
    ConfigSource
  >;
  const file = configFilePath(explicit, env);
  if (file) {
    if (!existsSync(file)) {
      throw new KubecontrolError("CONFIG_INVALID", `configuration file ${file} does not exist`, {
        hint: "create it, or unset KUBECONTROL_CONFIG / drop --config",
      });
    }
    const { parse } = await import("yaml");
    let data: unknown;
    try {
      data = parse(readFileSync(file, "utf8")) ?? {};
    } catch (err) {
      throw new KubecontrolError(
        "CONFIG_INVALID",
        `${file}: not valid YAML: ${(err as Error).message.split("\n")[0]}`,
      );
    }
    if (typeof data !== "object" || Array.isArray(data)) {
      throw new KubecontrolError(
        "CONFIG_INVALID",
        `${file}: expected a mapping of settings, found ${Array.isArray(data) ? "a list" : typeof data}`,
      );
    }
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      values[k] = v;
      if (k in sources) sources[k as ConfigKey] = { kind: "file", path: file };
    }
  }
  for (const [key, names] of Object.entries(CONFIG_ENV) as [ConfigKey, string[]][]) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== "");
    if (name) {
      values[key] = env[name];
      sources[key] = { kind: "env", name };
    }
  }
  const parsed = configSchema.safeParse(values, { reportInput: true });
  if (!parsed.success) {
    const lines = problemsFromZod(parsed.error.issues, configSchema).map((p) => {
      const key = String(p.path[0] ?? "");
      const src = sources[key as ConfigKey];
      const where =
        src?.kind === "env" ? `$${src.name}` : src?.kind === "file" ? src.path : (file ?? "configuration");
      // A store URL may hold a password, and a mistyped one defeats any redaction: never echo it.
      const message = SECRET_SETTINGS.includes(key)
        ? `${p.message.replace(/,? found .*$/s, "")} (the value is not shown: it may hold a ${key === "historyStore" ? "password" : "token"})`
        : p.message;
      return `  ${where}: ${formatPath(p.path)}: ${message}${p.hint ? ` (${p.hint})` : ""}`;
    });
    throw new KubecontrolError("CONFIG_INVALID", `invalid operator configuration\n${lines.join("\n")}`, {
      hint: "see `kubecontrol config --help` for the keys and their environment variables",
    });
  }
  const config = { values: parsed.data, sources, file };
  // A webhook URL carries its token in its path: it is redacted from everything from now on.
  for (const url of config.values.notifyWebhooks) registerWebhookSecret(url);
  checkLeaseRoom(config);
  return config;
}

/**
 * How long a lease lives, how long before its expiry a run stops counting it as held (the
 * margin: the longest a change sent now may take to land, a request's timeout plus connecting,
 * plus 2s for clocks), and the request timeout itself, in ms.
 */
export function leaseTiming(values: Pick<OperatorConfig, "lockTimeout" | "requestTimeout">): {
  ttlMs: number;
  marginMs: number;
  requestTimeoutMs: number;
} {
  const requestTimeoutMs = (parseDuration(values.requestTimeout) ?? 30) * 1000;
  const marginMs = requestTimeoutMs + Math.min(5_000, requestTimeoutMs) + 2_000;
  return { ttlMs: (parseDuration(values.lockTimeout) ?? 120) * 1000, marginMs, requestTimeoutMs };
}

/** How long removing a colour waits for network interfaces to let go of its security groups, in ms. */
export function interfaceWaitMs(values: Pick<OperatorConfig, "interfaceWait">): number {
  return (parseDuration(values.interfaceWait) ?? 600) * 1000;
}

/**
 * Registers a webhook URL for redaction: the URL, its path and query (where a service's token
 * is: Slack's `/services/T…/B…/<token>`), and each long path segment or query value on its own,
 * so that no part of the token travels, whatever text or encoding it is in.
 */
export function registerWebhookSecret(url: string): void {
  registerSecret(url);
  try {
    const u = new URL(url);
    registerSecret(u.href);
    registerSecret(`${u.pathname}${u.search}`);
    for (const part of u.pathname.split("/")) if (part.length >= 12) registerSecret(decodeURIComponent(part));
    for (const [, value] of u.searchParams) if (value.length >= 8) registerSecret(value);
    if (u.username || u.password) registerSecret(decodeURIComponent(u.password || u.username));
  } catch {
    // Not a URL the parser reads: the whole text is registered, which is all that can be.
  }
}

/** How long notifying may take in all, in ms. */
export function notifyTimeoutMs(values: Pick<OperatorConfig, "notifyTimeout">): number {
  return (parseDuration(values.notifyTimeout) ?? 10) * 1000;
}

/**
 * A lease must stay valid long enough to act between renewals: at least twice the margin, so
 * half its life is left for work and renewals (made three times in that half) never race it.
 */
function checkLeaseRoom(config: ResolvedConfig): void {
  const { ttlMs, marginMs } = leaseTiming(config.values);
  if (ttlMs >= 2 * marginMs) return;
  const where = (k: ConfigKey) => {
    const s = config.sources[k];
    return s.kind === "env" ? `$${s.name}` : s.kind === "file" ? s.path : "default";
  };
  throw new KubecontrolError(
    "CONFIG_INVALID",
    `invalid operator configuration\n  ${where("lockTimeout")}: lockTimeout: expected at least ${Math.ceil((2 * marginMs) / 1000)}s, found "${config.values.lockTimeout}" (a run stops acting ${marginMs / 1000}s before its lease expires: requestTimeout ${config.values.requestTimeout} (${where("requestTimeout")}) plus connecting and 2s; twice that leaves room to act and renew)`,
    { hint: "raise lockTimeout, or lower requestTimeout" },
  );
}
