import { COLOURS, type Colour, other } from "../../plan/names.js";
import type { AppState } from "../observe/live-state.js";
import { decideLiveColour, isSplit, liveDuringSplit, requireLiveColour } from "./live-colour.js";

/**
 * What update found before acting. `deploy`: the live colour runs another version, so the other
 * colour is built at the new one, verified, and DNS switched to it. `finish`: the live colour
 * already runs the version (a finished or interrupted earlier update), so only what is left is done.
 */
export interface UpdateDecision {
  mode: "deploy" | "finish";
  /** The colour DNS points at now. */
  live: Colour;
  /** Its version, when it could be read from its cluster. */
  liveVersion: string | undefined;
  /** The colour that ends up running the version with all of DNS. */
  target: Colour;
  /** The other one: torn down unless kept. */
  old: Colour;
  /**
   * The target's shares of the traffic before all of it (deploy.dnsSteps below 100), each
   * followed by a judgement; empty for a switch in one change (no steps in the spec, or an old
   * colour without a cluster to go back to).
   */
  dnsSteps: number[];
}

/** The version each colour runs, as far as it was read (runningVersions). */
export type RunningVersions = Partial<Record<Colour, string | undefined>>;

/**
 * The colours whose version the decision needs (pure): both while DNS splits traffic, else the
 * live one; none when nothing clearly serves (decideUpdate then refuses).
 */
export function versionsToRead(state: AppState): Colour[] {
  if (isSplit(state)) return [...COLOURS];
  const live = decideLiveColour(state);
  return live.kind === "live" ? [live.colour] : [];
}

/**
 * Decides an update to `commit` from what is live (pure): the live colour (decideLiveColour: the
 * larger weight, so an interrupted switch is finished; a colour DNS points at whose cluster is
 * gone is replaced), and the version it runs. Coded errors as requireLiveColour and
 * liveDuringSplit throw them: NOT_FOUND (nothing serves), PRECONDITION (unclear, or another
 * update's shift under way).
 */
export function decideUpdate(
  state: AppState,
  versions: RunningVersions,
  commit: string,
  dnsSteps: readonly number[] = [],
): UpdateDecision {
  let observed = decideLiveColour(state);
  // A progressive switch stopped part-way: the colour that runs the version is where traffic
  // goes, whatever the weights are now (50/50 included).
  if (isSplit(state))
    observed = liveDuringSplit(
      state.app,
      state,
      observed,
      { blue: versions.blue, green: versions.green },
      commit,
    );
  const { colour: live } = requireLiveColour(state.app, observed, {
    command: "update",
    shifting: true,
    clusterMissing: true,
  });
  const liveVersion = versions[live];
  const mode: UpdateDecision["mode"] = liveVersion === commit ? "finish" : "deploy";
  const target = mode === "finish" ? live : other(live);
  const old = other(target);
  // Steps need a colour to go back to: one whose cluster stands and that has a record.
  const canStep = state.colours[old].cluster !== undefined && state.colours[old].record !== undefined;
  return {
    mode,
    live,
    liveVersion,
    target,
    old,
    dnsSteps: canStep ? dnsSteps.filter((p) => p > 0 && p < 100) : [],
  };
}
