import { KubecontrolError } from "../errors.js";
import type { HistoryStore } from "./types.js";

/**
 * Opens the store the operator configured: SQLite in stateDir, or PostgreSQL at a postgres://
 * (or postgresql://) URL. Each driver is imported only when it is used.
 */
export async function openStore(config: { historyStore: string; stateDir: string }): Promise<HistoryStore> {
  if (config.historyStore === "sqlite") {
    const { openSqliteStore } = await import("./sqlite-store.js");
    return openSqliteStore(config.stateDir);
  }
  if (/^postgres(ql)?:\/\//.test(config.historyStore)) {
    const { openPostgresStore } = await import("./postgres-store.js");
    return openPostgresStore(config.historyStore);
  }
  throw new KubecontrolError(
    "CONFIG_INVALID",
    'historyStore: expected "sqlite" or a postgres:// URL (the value is not shown: it may hold a password)',
    { hint: "set historyStore in the configuration file or $KUBECONTROL_HISTORY_STORE" },
  );
}
