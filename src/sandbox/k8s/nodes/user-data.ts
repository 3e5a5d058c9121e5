import { parseAllDocuments } from "yaml";
import { kubeletRefusesLabel } from "../../../spec/kubelet-labels.js";

/** A taint as the kubelet registers it from --register-with-taints. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** What the user data tells the kubelet to register its node with. */
export interface KubeletRegistration {
  labels: Record<string, string>;
  taints: Taint[];
  /** Why this kubelet would not start (a node label it refuses), if it would not. */
  refused?: string;
}

/**
 * Reads the labels and taints the kubelet registers with from EC2 user data (base64 as the
 * launch template holds it): AL2023 nodeadm NodeConfig parts (application/node.eks.aws) in a
 * MIME multipart document, or the flags of an AL2 bootstrap.sh --kubelet-extra-args line.
 */
export function kubeletRegistrationFromUserData(userDataBase64: string | undefined): KubeletRegistration {
  const result: KubeletRegistration = { labels: {}, taints: [] };
  if (!userDataBase64) return result;
  const text = Buffer.from(userDataBase64, "base64").toString("utf8");
  for (const part of mimeParts(text)) {
    if (part.contentType.includes("application/node.eks.aws") || /kind:\s*NodeConfig/.test(part.body)) {
      for (const flags of nodeConfigKubeletFlags(part.body, result)) applyFlags(flags, result);
    } else {
      applyFlags(part.body, result);
    }
  }
  const refused = Object.keys(result.labels).find((key) => kubeletRefusesLabel(key));
  if (refused) result.refused = `--node-labels ${refused}: ${kubeletRefusesLabel(refused)}`;
  return result;
}

interface MimePart {
  contentType: string;
  body: string;
}

function mimeParts(text: string): MimePart[] {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(/^[\s\S]*?\r?\n\r?\n/.exec(text)?.[0] ?? "")?.[1];
  if (!/^(MIME-Version|Content-Type):/im.test(text.slice(0, 500)) || !boundary) {
    return [{ contentType: "", body: text }];
  }
  return text
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith("--"))
    .map((chunk) => {
      const split = /\r?\n\r?\n/.exec(chunk);
      const headers = split ? chunk.slice(0, split.index) : "";
      const body = split ? chunk.slice(split.index + split[0].length) : chunk;
      return { contentType: (/content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "").toLowerCase(), body };
    });
}

/** The kubelet flags of each NodeConfig document; registerWithTaints in its config go to `into`. */
function nodeConfigKubeletFlags(yamlText: string, into: KubeletRegistration): string[] {
  const out: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const value = doc.toJS() as {
      kind?: string;
      spec?: {
        kubelet?: {
          flags?: unknown;
          config?: { registerWithTaints?: Taint[]; nodeLabels?: Record<string, string> };
        };
      };
    } | null;
    if (value?.kind !== "NodeConfig") continue;
    const kubelet = value.spec?.kubelet;
    if (Array.isArray(kubelet?.flags)) out.push(kubelet.flags.map(String).join(" "));
    for (const taint of kubelet?.config?.registerWithTaints ?? []) into.taints.push(taint);
  }
  return out;
}

function applyFlags(text: string, into: KubeletRegistration): void {
  for (const m of text.matchAll(/--node-labels[= ]['"]?([^\s'"]+)/g)) {
    for (const pair of m[1]!.split(",")) {
      const eq = pair.indexOf("=");
      if (eq > 0) into.labels[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  for (const m of text.matchAll(/--register-with-taints[= ]['"]?([^\s'"]+)/g)) {
    for (const spec of m[1]!.split(",")) {
      const taint = parseTaint(spec);
      if (taint) into.taints.push(taint);
    }
  }
}

/** Parses `key[=value]:Effect` as the kubelet's --register-with-taints does. */
export function parseTaint(spec: string): Taint | undefined {
  const colon = spec.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const effect = spec.slice(colon + 1);
  const [key, value] = spec.slice(0, colon).split("=", 2);
  if (!key || !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect)) return undefined;
  return value === undefined ? { key, effect } : { key, value, effect };
}
