import { KubecontrolError } from "../errors.js";

// Where a PostgreSQL store is, read from its postgres:// URL, and how to name it in messages:
// never with its password.

/** Where the store is, for messages: never the password. */
export interface PostgresTarget {
  host: string;
  port: string;
  database: string;
  user: string;
  /** The password, only to scrub it from text that might echo it. */
  password: string;
}

/** Host, port, database and user of a postgres:// URL (the URL itself is never shown: it may carry a password). */
export function postgresTarget(url: string): PostgresTarget {
  let u: URL;
  try {
    // An empty host (postgres://user@/db?host=/run/postgresql) is a socket directory in the query.
    u = new URL(url.replace("@/", "@localhost/"));
  } catch {
    throw new KubecontrolError(
      "CONFIG_INVALID",
      "historyStore: not a valid postgres:// URL (the value is not shown: it may hold a password)",
      {
        hint: "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE; percent-encode special characters of the password (@ as %40, / as %2F)",
      },
    );
  }
  if (!/^postgres(ql)?:$/.test(u.protocol)) {
    throw new KubecontrolError(
      "CONFIG_INVALID",
      `historyStore: expected a postgres:// or postgresql:// URL, found ${u.protocol}//…`,
    );
  }
  const q = u.searchParams;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = q.get("user") ?? (decode(u.username) || process.env.PGUSER || "(the login name)");
  return {
    host: q.get("host") ?? (decode(u.hostname).replace(/^\[(.+)\]$/, "$1") || "localhost"),
    port: q.get("port") ?? (u.port || "5432"),
    database: decode(u.pathname.slice(1)) || process.env.PGDATABASE || user,
    user,
    password: q.get("password") ?? decode(u.password),
  };
}

/** `database "kubecontrol" on db.example:5432 as user "deploy"` (a socket directory as host/.s.PGSQL.port). */
export function describeTarget(t: PostgresTarget): string {
  const where = t.host.startsWith("/") ? `socket ${t.host}/.s.PGSQL.${t.port}` : `${t.host}:${t.port}`;
  return `PostgreSQL database "${t.database}" on ${where} as user "${t.user}"`;
}
