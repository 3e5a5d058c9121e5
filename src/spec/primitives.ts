/**
 * Syntax rules for the values a KubeApp spec holds, written as plain predicates so that the
 * schema, the plan and the tests share one definition. Each one mirrors what AWS or Kubernetes
 * would reject later, so a bad spec fails here, before any call.
 */

/** DNS-1123 label starting with a letter (also a valid DNS-1035 label): Kubernetes Service names, app names. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** DNS-1123 subdomain (Kubernetes object names), checked label by label. */
export function isDnsSubdomain(value: string): boolean {
  return (
    value.length <= 253 &&
    value.split(".").every((l) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l) && l.length <= 63)
  );
}

/** A fully qualified domain name (lower case, no trailing dot), optionally with a leading wildcard. */
export function isDomainName(value: string, { wildcard = false } = {}): boolean {
  const labels = value.split(".");
  if (labels.length < 2 || value.length > 253) return false;
  return labels.every(
    (l, i) =>
      (wildcard && i === 0 && l === "*") || (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l) && l.length <= 63),
  );
}

/** IANA service name, as Kubernetes requires for port names: ≤15 chars, a letter, no double hyphen. */
export function isPortName(value: string): boolean {
  return (
    value.length <= 15 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) &&
    /[a-z]/.test(value) &&
    !value.includes("--")
  );
}

/** AWS region syntax (us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4). */
export const REGION =
  /^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$/;

/** EC2 instance type syntax: family, generation, attributes, then size (m6i.large, c7gn.16xlarge, u-6tb1.metal). */
export const INSTANCE_TYPE =
  /^([a-z]+|u-\d+tb)(\d+)([a-z-]*)\.(nano|micro|small|medium|large|metal(-\d+xl)?|\d*xlarge)$/;

/** Architecture an instance type runs: Graviton families carry a `g` attribute (m6g, c7gn, t4g) or are a1. */
export function instanceTypeArch(type: string): "arm64" | "x86_64" | undefined {
  const m = INSTANCE_TYPE.exec(type);
  if (!m) return undefined;
  const [, family, , attributes] = m;
  if (family === "a" || (attributes ?? "").includes("g")) return "arm64";
  return "x86_64";
}

/** The EKS-optimized AMI variant an accelerated instance family needs. */
export type Accelerator = "nvidia" | "neuron";

/**
 * The accelerator an instance type carries, by family: NVIDIA GPUs (p, g and gr families; g4ad
 * has AMD GPUs, which no EKS AMI variant serves), AWS Inferentia and Trainium (inf, trn, served
 * by the Neuron variant). Undefined for plain types.
 */
export function instanceTypeAccelerator(type: string): Accelerator | undefined {
  const m = INSTANCE_TYPE.exec(type);
  if (!m) return undefined;
  const [, family, , attributes] = m;
  if (family === "inf" || family === "trn") return "neuron";
  if ((family === "p" || family === "g" || family === "gr") && !(attributes ?? "").includes("a"))
    return "nvidia";
  return undefined;
}

/** Kubernetes CPU quantity: millicores or decimal cores. */
export const CPU_QUANTITY = /^(\d+m|\d+(\.\d{1,3})?)$/;
/** Kubernetes memory quantity with a binary or decimal suffix. */
export const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/;

/** IAM principal ARN (role or user) that may be given cluster access. */
export const IAM_PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@\-/]{1,512}$/;

/** C identifier, as environment variable names should be. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `secret-name#json-key` reference to an AWS Secrets Manager secret. */
export const SECRET_REF = /^[A-Za-z0-9/_+=.@-]{1,512}#[A-Za-z0-9_.-]{1,128}$/;

/** `key=value` tag filter. */
export const TAG_FILTER = /^[^=\s]{1,128}=[^=]{0,256}$/;

const DURATION_PART = /(\d+)(ms|s|m|h|d)/g;

/** Parses "90s", "15m", "1h30m", "2d" into seconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const [, n, u] of text.matchAll(DURATION_PART)) total += Number(n) * (unit[u!] ?? 0);
  return total;
}

const CRON_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** Checks a five-field cron expression; returns why it is wrong, or undefined when it is valid. */
export function cronProblem(expr: string): string | undefined {
  // Only cron's own characters: a newline or a % would end or change the crontab line.
  const odd = /[^0-9A-Za-z*,/ -]/.exec(expr);
  if (odd)
    return `only digits, names, "*", ",", "-" and "/" in five fields separated by spaces are allowed, found ${JSON.stringify(odd[0])}`;
  const fields = expr.trim().split(/ +/);
  if (fields.length !== 5)
    return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const rule = CRON_FIELDS[i]!;
    for (const item of field.split(",")) {
      const [range, step] = item.split("/");
      if (step !== undefined && !/^\d+$/.test(step)) return `${rule.name}: step "${step}" is not a number`;
      if (range === "*") continue;
      const bounds = (range ?? "").split("-");
      if (bounds.length > 2) return `${rule.name}: "${item}" is not a value, range or step`;
      for (const b of bounds) {
        const idx = rule.names?.indexOf(b.toLowerCase()) ?? -1;
        const n = idx >= 0 ? idx + rule.min : /^\d+$/.test(b) ? Number(b) : Number.NaN;
        if (Number.isNaN(n) || n < rule.min || n > rule.max) {
          return `${rule.name}: "${b}" is outside ${rule.min}-${rule.max}`;
        }
      }
    }
  }
  return undefined;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
