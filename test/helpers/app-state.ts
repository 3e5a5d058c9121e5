import type { AppState, ColourState } from "../../src/engine/observe/live-state.js";
import type { Colour } from "../../src/plan/names.js";

/** One colour of a hand-made state: whether its cluster stands (ACTIVE), its DNS weight if it has a record. */
export type Side = { cluster?: boolean; weight?: number };

/** A hand-made observed state of app `app` (DNS name app.example.com unless `dns: false`). */
export function appState(blue: Side, green: Side, o: { dns?: boolean; zone?: boolean } = {}): AppState {
  const colour = (c: Colour, s: Side): ColourState => ({
    colour: c,
    cluster: s.cluster ? { name: `kc-app-${c}`, status: "ACTIVE" } : undefined,
    record: s.weight === undefined ? undefined : { weight: s.weight, ttl: 60 },
  });
  return {
    app: "app",
    dnsName: o.dns === false ? undefined : "app.example.com",
    zoneFound: o.zone ?? true,
    colours: { blue: colour("blue", blue), green: colour("green", green) },
  };
}
