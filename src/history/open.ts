import { KubecontrolError } from "../errors.js";
import type { HistoryStore } from "./types.js";

/** Opens the store the operator configured: SQLite in stateDir, or PostgreSQL (not built yet). */
export async function openStore(config: { historyStore: string; stateDir: string }): Promise<HistoryStore> {
  if (config.historyStore === "sqlite") {
    const { openSqliteStore } = await import("./sqlite-store.js");
    return openSqliteStore(config.stateDir);
  }
  throw new KubecontrolError(
    "CONFIG_INVALID",
    "historyStore: PostgreSQL is not supported by this build yet",
    {
      hint: "set historyStore: sqlite (the default) in the configuration file",
    },
  );
}
