/**
 * The Postgres session schema and its migrations, applied when a store opens. Every replica runs
 * this at start; a transaction-scoped advisory lock lets one of them migrate while the others
 * wait, then find nothing left to do. DDL is transactional in Postgres, so a replica killed
 * mid-upgrade leaves the old schema intact.
 *
 * Tables carry a `skiff_` prefix: a Postgres database is often shared with other programs, where
 * names like `sessions` or `schema_version` are likely taken.
 */
import type { SQL } from "bun";
import { type Migration, latestVersion, pendingMigrations } from "./schema-version.ts";

/** Every schema the Postgres store has had, oldest first. Append only: a released step never changes. */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    description: "sessions and their messages",
    sql: `
CREATE TABLE skiff_sessions (
  id text PRIMARY KEY,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE skiff_messages (
  session_id text NOT NULL REFERENCES skiff_sessions (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  role text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (session_id, seq)
);`,
  },
  {
    version: 2,
    description: "index sessions by last update, for the session_ttl sweep",
    sql: "CREATE INDEX skiff_sessions_by_updated_at ON skiff_sessions (updated_at);",
  },
  {
    version: 3,
    description: "runs and their events (the run journal); sessions remember the run that committed their last turn",
    // Partial indexes: the claim scan reads only unfinished runs, oldest first, and the retention
    // sweep only finished ones. Appending events (last_seq) and renewing leases (lease_expires_at)
    // change no indexed column, so those updates of a run row are heap-only (HOT, no index
    // writes) when its page has room, which the fillfactor keeps.
    sql: `
CREATE TABLE skiff_runs (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'requires_action', 'completed', 'failed', 'cancelled')),
  session_id text,
  background boolean NOT NULL,
  request text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  attempt integer NOT NULL,
  owner text,
  lease_expires_at bigint,
  cancel_requested boolean NOT NULL DEFAULT false,
  trace_id text,
  result text,
  last_seq integer NOT NULL DEFAULT 0
) WITH (fillfactor = 80);
CREATE INDEX skiff_runs_unfinished ON skiff_runs (created_at, id) WHERE status IN ('queued', 'running', 'requires_action');
CREATE INDEX skiff_runs_by_created_at ON skiff_runs (created_at, id COLLATE "C");
CREATE INDEX skiff_runs_finished_by_updated_at ON skiff_runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE TABLE skiff_run_events (
  run_id text NOT NULL REFERENCES skiff_runs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  type text NOT NULL,
  data text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (run_id, seq)
);
ALTER TABLE skiff_sessions ADD COLUMN last_run_id text;`,
  },
  {
    version: 4,
    description: "API keys' usage per UTC day and requests per minute",
    // One row per key and day, and one per key for its current minute: every change is one
    // INSERT … ON CONFLICT DO UPDATE, whose row lock makes replicas' additions serialize.
    sql: `
CREATE TABLE skiff_key_usage (
  key_name text NOT NULL,
  day text NOT NULL,
  runs bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cost_usd double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (key_name, day)
);
CREATE INDEX skiff_key_usage_by_day ON skiff_key_usage (day);
CREATE TABLE skiff_key_requests (
  key_name text PRIMARY KEY,
  minute bigint NOT NULL,
  count integer NOT NULL
);`,
  },
];

/** The schema this binary writes. */
export const postgresSchemaVersion = latestVersion(postgresMigrations);

/** Key of the advisory lock migrations hold: "skiff" in ASCII, so it is recognisable in pg_locks. */
export const schemaLockKey = 0x736b696666;

/**
 * Brings the database to the newest version of `migrations` (the real list unless a test passes
 * its own), or throws when it is newer than that; on any failure the database keeps its old schema.
 */
export async function migratePostgres(sql: SQL, where: string, now: () => number, migrations: readonly Migration[] = postgresMigrations): Promise<void> {
  await sql.begin(async (tx) => {
    // Released at COMMIT or ROLLBACK, and by the server if this process dies: no stale lock.
    await tx`SELECT pg_advisory_xact_lock(${schemaLockKey}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS skiff_schema_version (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at bigint NOT NULL
    )`;
    const [row] = await tx<{ v: number | null }[]>`SELECT MAX(version) AS v FROM skiff_schema_version`;
    for (const migration of pendingMigrations(row?.v ?? 0, migrations, where)) {
      await tx.unsafe(migration.sql).simple();
      await tx`INSERT INTO skiff_schema_version (version, description, applied_at) VALUES (${migration.version}, ${migration.description}, ${now()})`;
    }
  });
}
