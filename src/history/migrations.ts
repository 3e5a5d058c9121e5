/**
 * The store's schema as an ordered list of migrations, one list for both stores (each migration
 * in SQLite's and PostgreSQL's dialect). A store records the version it reached (SQLite:
 * `PRAGMA user_version`; PostgreSQL: the `kubecontrol_schema` table) and, on opening, applies
 * the ones after it in one transaction, under a lock, so hosts opening a store at once do not
 * race. Migrations only add (tables, nullable columns, indexes): an older kubecontrol keeps
 * working against a newer store. Never edit a migration that has shipped; add the next one.
 */
export interface Migration {
  version: number;
  /** What it adds, for people reading the schema's history. */
  description: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs, their steps' journal, leases with fencing tokens, the lease log",
    // IF NOT EXISTS throughout: stores made before migrations were numbered already have these.
    sqlite: `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, app TEXT NOT NULL, command TEXT NOT NULL, who TEXT NOT NULL,
  version TEXT, colour TEXT, plan_hash TEXT, started_at INTEGER NOT NULL, finished_at INTEGER,
  result TEXT NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS runs_app_started ON runs (app, started_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL REFERENCES runs (id), step TEXT NOT NULL, status TEXT NOT NULL,
  started_at INTEGER NOT NULL, finished_at INTEGER, changed INTEGER NOT NULL, output TEXT, error TEXT,
  PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS leases (
  app TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, token INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fencing (app TEXT PRIMARY KEY, last_token INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lease_log (
  app TEXT NOT NULL, at INTEGER NOT NULL, event TEXT NOT NULL, owner TEXT NOT NULL, token INTEGER NOT NULL, detail TEXT);
`,
    postgres: `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, app TEXT NOT NULL, command TEXT NOT NULL, who TEXT NOT NULL,
  version TEXT, colour TEXT, plan_hash TEXT, started_at BIGINT NOT NULL, finished_at BIGINT,
  result TEXT NOT NULL, error TEXT, seq BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE INDEX IF NOT EXISTS runs_app_started ON runs (app, started_at);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL REFERENCES runs (id), step TEXT NOT NULL, status TEXT NOT NULL,
  started_at BIGINT NOT NULL, finished_at BIGINT, changed BOOLEAN NOT NULL, output TEXT, error TEXT,
  seq BIGINT GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS leases (
  app TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
  acquired_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, token BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS fencing (app TEXT PRIMARY KEY, last_token BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS lease_log (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, app TEXT NOT NULL, at BIGINT NOT NULL,
  event TEXT NOT NULL, owner TEXT NOT NULL, token BIGINT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS lease_log_app ON lease_log (app, seq);
`,
  },
  {
    version: 2,
    description: "runs.options: the flags a run was started with (keep-old, drain, force), for resume",
    sqlite: "ALTER TABLE runs ADD COLUMN options TEXT;",
    postgres: "ALTER TABLE runs ADD COLUMN IF NOT EXISTS options TEXT;",
  },
  {
    version: 3,
    description:
      "runs.trigger (person or cron) and runs.subject (the commit's subject line); an index for history across apps; actions done from the console (who, why)",
    sqlite: `
ALTER TABLE runs ADD COLUMN trigger TEXT;
ALTER TABLE runs ADD COLUMN subject TEXT;
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS actions (
  at INTEGER NOT NULL, app TEXT NOT NULL, action TEXT NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL,
  detail TEXT, result TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS actions_app ON actions (app, at);
`,
    postgres: `
ALTER TABLE runs ADD COLUMN IF NOT EXISTS trigger TEXT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS subject TEXT;
CREATE TABLE IF NOT EXISTS actions (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, app TEXT NOT NULL,
  action TEXT NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL, detail TEXT, result TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS actions_app ON actions (app, at);
`,
  },
];

/** The version a store is at once every migration has run. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The migrations a store at `current` still needs, in order. */
export function pendingMigrations(current: number): Migration[] {
  return MIGRATIONS.filter((m) => m.version > current);
}
