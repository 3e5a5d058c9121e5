import { KubecontrolError } from "../errors.js";
import { describeTarget, type PostgresTarget } from "./postgres-target.js";

// What a failure to talk to the PostgreSQL store means for the person who ran kubecontrol: a
// server out of reach (retryable), configuration to fix, or a bug.

/** Errors meaning the server could not be reached (or went away); retrying later may help. */
const UNREACHABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOENT",
]);

/**
 * A coded error for a failure to talk to the store: it names the host and database (never the
 * password) and says what to do. Unreachable servers are retryable prerequisites; refused logins,
 * missing databases and missing privileges are configuration.
 */
export function storeError(err: unknown, t: PostgresTarget, doing: string): KubecontrolError {
  if (err instanceof KubecontrolError) return err;
  const e = err as { code?: string; message?: string; errors?: { code?: string; message?: string }[] };
  // A host name with several addresses fails with an AggregateError of each attempt.
  const first = e.errors?.[0];
  const code = e.code ?? first?.code ?? "";
  const scrub = (s: string) =>
    t.password.length >= 3
      ? s.split(t.password).join("[REDACTED]").split(encodeURIComponent(t.password)).join("[REDACTED]")
      : s;
  const reason = scrub(String(e.message || first?.message || err));
  const target = describeTarget(t);
  const config = "historyStore in the configuration file or $KUBECONTROL_HISTORY_STORE";
  if (
    UNREACHABLE_ERRNO.has(code) ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P03" ||
    code === "53300" ||
    /timeout expired|Connection terminated|connection timeout/i.test(reason)
  ) {
    return new KubecontrolError(
      "PREREQUISITE_MISSING",
      `cannot reach the history store, ${target}: ${reason}`,
      {
        kind: "system",
        retryable: true,
        hint: `check that the server is running and reachable from this host (firewall, DNS), and ${config}`,
        details: {
          host: t.host,
          port: t.port,
          database: t.database,
          user: t.user,
          reason: code || undefined,
        },
      },
    );
  }
  if (code === "28P01" || code === "28000" || code === "3D000" || code === "42501" || /SSL/i.test(reason)) {
    const hint =
      code === "3D000"
        ? `create it (createdb -O ${t.user} ${t.database}) or name another database in ${config}`
        : code === "42501"
          ? `the store needs its tables: let an owner of the database run kubecontrol once, or GRANT CREATE ON SCHEMA public TO ${t.user}; then SELECT, INSERT, UPDATE and DELETE on the tables are enough`
          : /SSL/i.test(reason)
            ? `match the URL's sslmode to the server (sslmode=require or sslmode=disable) in ${config}`
            : `check the user and password (in the URL, $PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf; ${config}`;
    return new KubecontrolError("CONFIG_INVALID", `history store: ${doing} ${target} failed: ${reason}`, {
      hint,
      cause: err,
      details: { host: t.host, port: t.port, database: t.database, user: t.user, reason: code || undefined },
    });
  }
  return new KubecontrolError("INTERNAL", `history store: ${doing} ${target} failed: ${reason}`, {
    cause: err,
    details: { host: t.host, port: t.port, database: t.database, user: t.user, reason: code || undefined },
  });
}
