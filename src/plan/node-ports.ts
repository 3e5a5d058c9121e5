import { createHash } from "node:crypto";
import type { ResolvedKubeApp } from "../spec/resolve.js";

const FIRST = 30000;
const COUNT = 32767 - 30000 + 1;

/**
 * Node ports for every service: the spec's when given, else derived from a hash of app and
 * service, probing upward on collision. Deterministic, so target groups and Services agree
 * across runs and colours without storing anything.
 */
export function assignNodePorts(app: ResolvedKubeApp): Record<string, number> {
  const taken = new Set<number>();
  const ports: Record<string, number> = {};
  const names = Object.keys(app.services).sort();
  for (const name of names) {
    const fixed = app.services[name]!.nodePort;
    if (fixed !== undefined) {
      ports[name] = fixed;
      taken.add(fixed);
    }
  }
  for (const name of names) {
    if (ports[name] !== undefined) continue;
    const h = createHash("sha256").update(`${app.name}/${name}`).digest().readUInt32BE(0);
    let port = FIRST + (h % COUNT);
    while (taken.has(port)) port = FIRST + ((port - FIRST + 1) % COUNT);
    ports[name] = port;
    taken.add(port);
  }
  return ports;
}
