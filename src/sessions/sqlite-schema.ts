/**
 * The SQLite session schema and its migrations, applied when a store opens. The whole check and
 * upgrade runs in one IMMEDIATE transaction, so two processes opening one file at once migrate it
 * once, and a crash mid-upgrade leaves the old schema intact.
 */
import type { Database } from "bun:sqlite";
import { type Migration, latestVersion, pendingMigrations } from "./schema-version.ts";

/** Every schema the SQLite store has had, oldest first. Append only: a released step never changes. */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    description: "sessions and their messages",
    // IF NOT EXISTS: the first releases created these tables before setting PRAGMA user_version, so
    // a file from a process that died in between has the tables and version 0.
    sql: `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS messages (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;`,
  },
  {
    version: 2,
    description: "index sessions by last update, for the session_ttl sweep",
    sql: "CREATE INDEX sessions_by_updated_at ON sessions (updated_at);",
  },
  {
    version: 3,
    description: "runs and their events (the run journal); sessions remember the run that committed their last turn",
    // Partial indexes: the claim scan reads only unfinished runs, oldest first, and the retention
    // sweep only finished ones. Appending events (last_seq) and renewing leases (lease_expires_at)
    // change no indexed column, so the hottest writes touch no index of runs.
    // Events are deleted with their run explicitly (foreign keys are off in SQLite by default).
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'requires_action', 'completed', 'failed', 'cancelled')),
  session_id TEXT,
  background INTEGER NOT NULL,
  request TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  owner TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  trace_id TEXT,
  result TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX runs_unfinished ON runs (created_at, id) WHERE status IN ('queued', 'running', 'requires_action');
CREATE INDEX runs_by_created_at ON runs (created_at, id);
CREATE INDEX runs_finished_by_updated_at ON runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE TABLE run_events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) STRICT;
ALTER TABLE sessions ADD COLUMN last_run_id TEXT;`,
  },
  {
    version: 4,
    description: "API keys' usage per UTC day and requests per minute",
    // One row per key and day, and one per key for its current minute: every change is one
    // UPSERT, so processes sharing the file add up instead of overwriting each other.
    sql: `
CREATE TABLE key_usage (
  key_name TEXT NOT NULL,
  day TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (key_name, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX key_usage_by_day ON key_usage (day);
CREATE TABLE key_requests (
  key_name TEXT PRIMARY KEY,
  minute INTEGER NOT NULL,
  count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;`,
  },
];

/** The schema this binary writes. */
export const sqliteSchemaVersion = latestVersion(sqliteMigrations);

/**
 * Brings the database to the newest version of `migrations` (the real list unless a test passes
 * its own), or throws when it is newer than that; on any failure the file keeps its old schema.
 */
export function migrateSqlite(db: Database, where: string, now: () => number, migrations: readonly Migration[] = sqliteMigrations): void {
  const latest = latestVersion(migrations);
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`);
    const recorded = db.query<{ v: number | null }, []>("SELECT MAX(version) AS v FROM schema_version").get()?.v ?? null;
    // Files from before the schema_version table kept their version in PRAGMA user_version only.
    const current = recorded ?? db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    const record = db.query("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)");
    if (recorded === null && current > 0 && current <= latest) {
      for (const migration of migrations.filter((m) => m.version <= current)) record.run(migration.version, `${migration.description} (before schema_version)`, now());
    }
    for (const migration of pendingMigrations(current, migrations, where)) {
      db.exec(migration.sql);
      record.run(migration.version, migration.description, now());
    }
    // Kept in step so a skiff from before the schema_version table, which reads only user_version,
    // refuses a newer file instead of writing into it.
    db.exec(`PRAGMA user_version = ${Math.max(current, latest)}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
