import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { afterAll, afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSessionLine, type SessionStore, sessionToJsonLine, type StoredSession } from "../../src/sessions/index.ts";
import { createPostgresRunStore } from "../../src/runs/postgres-runs.ts";
import { createSqliteRunStore } from "../../src/runs/sqlite-runs.ts";
import { createPostgresSessionStore } from "../../src/sessions/postgres.ts";
import { migratePostgres, postgresMigrations } from "../../src/sessions/postgres-schema.ts";
import type { Migration } from "../../src/sessions/schema-version.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";
import { migrateSqlite, sqliteMigrations } from "../../src/sessions/sqlite-schema.ts";
import { createPostgresUsageStore } from "../../src/usage/postgres-usage.ts";
import { createSqliteUsageStore } from "../../src/usage/sqlite-usage.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";

const pg = await testPostgres();
afterAll(() => dropDatabases(pg));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const fixtures = join(import.meta.dir, "../fixtures");
/** A file as the first SQLite schema wrote it (made with that release's code). */
const schemaV1 = await Bun.file(join(fixtures, "sessions-v1.sql")).text();
/** What `skiff sessions export` must print for it: every session and message, in the pinned line format. */
const expectedExport = await Bun.file(join(fixtures, "sessions-export.jsonl")).text();

/** The v1 fixture brought to schema 2, as the release before the run journal left files. */
function v2File(): string {
  const path = v1File();
  const db = new Database(path);
  migrateSqlite(db, path, () => 1_790_000_000_000, sqliteMigrations.slice(0, 2));
  db.close();
  return path;
}

function v1File(): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-migrate-"));
  dirs.push(dir);
  const path = join(dir, "skiff.db");
  const db = new Database(path);
  db.exec(schemaV1);
  db.close();
  return path;
}

async function exportText(store: SessionStore): Promise<string> {
  let text = "";
  for await (const session of store.exportSessions()) text += `${sessionToJsonLine(session)}\n`;
  return text;
}

async function* fixtureSessions(): AsyncGenerator<StoredSession> {
  for (const line of expectedExport.trim().split("\n")) {
    const parsed = parseSessionLine(line);
    if (!parsed.ok) throw new Error(parsed.message);
    yield parsed.session;
  }
}

const rawMessages = (path: string) => {
  const db = new Database(path, { readonly: true });
  const rows = db.query("SELECT session_id, seq, role, body FROM messages ORDER BY session_id, seq").all();
  db.close();
  return rows;
};

describe("schema migrations", () => {
  it("number the steps 1..n in both stores, with the same meaning", () => {
    expect(sqliteMigrations.map((m) => m.version)).toEqual(sqliteMigrations.map((_, i) => i + 1));
    expect(postgresMigrations.map((m) => [m.version, m.description])).toEqual(sqliteMigrations.map((m) => [m.version, m.description]));
  });

  it("migrate a schema-1 SQLite file to the newest schema keeping every message, byte for byte", async () => {
    const path = v1File();
    const before = rawMessages(path);
    expect(before).toHaveLength(17);

    const store = createSqliteSessionStore(path, { now: () => 1_800_000_000_000 });
    expect(await exportText(store)).toBe(expectedExport);
    // Turns go on where the old file left off (its trimmed history starts at seq 13).
    expect((await store.commitTurn("trimmed.session:1", { expectedVersion: 5, messages: [{ role: "user", content: "6*6?" }], maxMessages: 200 })).ok).toBe(true);
    await store.close();

    const after = rawMessages(path);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)).toMatchObject({ session_id: "trimmed.session:1", seq: 21 });
    const db = new Database(path, { readonly: true });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 4 });
    expect(db.query("SELECT version, description FROM schema_version ORDER BY version").all()).toEqual([
      { version: 1, description: "sessions and their messages (before schema_version)" },
      { version: 2, description: "index sessions by last update, for the session_ttl sweep" },
      { version: 3, description: "runs and their events (the run journal); sessions remember the run that committed their last turn" },
      { version: 4, description: "API keys' usage per UTC day and requests per minute" },
    ]);
    expect(db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'sessions_by_updated_at'").all()).toHaveLength(1);
    db.close();
  });

  it("leave a SQLite file at its old schema when a step fails", () => {
    const path = v1File();
    const broken: Migration[] = [...sqliteMigrations, { version: 5, description: "broken", sql: "CREATE TABLE extra (x INTEGER); SELECT * FROM no_such_table;" }];
    const db = new Database(path);
    expect(() => migrateSqlite(db, path, Date.now, broken)).toThrow(/no such table: no_such_table/);
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 1 });
    expect(db.query("SELECT name FROM sqlite_master WHERE name IN ('schema_version', 'extra', 'sessions_by_updated_at', 'runs', 'run_events')").all()).toEqual([]);
    db.close();
    expect(rawMessages(path)).toHaveLength(17);
  });

  it.skipIf(!pg)("leave a Postgres database at its old schema when a step fails", async () => {
    const url = await freshDatabase(pg!);
    const sql = new SQL(url, { max: 1 });
    try {
      await migratePostgres(sql, "test", Date.now, postgresMigrations.slice(0, 1));
      const broken: Migration[] = [...postgresMigrations, { version: 5, description: "broken", sql: "CREATE TABLE extra (x int); SELECT * FROM no_such_table;" }];
      await expect(migratePostgres(sql, "test", Date.now, broken)).rejects.toThrow(/no_such_table/);
      expect(await sql`SELECT max(version)::int AS v FROM skiff_schema_version`).toEqual([{ v: 1 }]);
      expect(await sql`SELECT to_regclass('extra') AS t, to_regclass('skiff_sessions_by_updated_at') AS i, to_regclass('skiff_runs') AS r`).toEqual([{ t: null, i: null, r: null }]);
    } finally {
      await sql.close();
    }
  });

  it.skipIf(!pg)("carry a migrated SQLite store into Postgres and back out, identical", async () => {
    const sqlite = createSqliteSessionStore(v1File());
    const postgres = await createPostgresSessionStore(await freshDatabase(pg!));
    try {
      const source = sqlite.exportSessions();
      expect(await postgres.importSessions(source, { replace: false })).toEqual({ imported: 3, replaced: 0 });
      expect(await exportText(postgres)).toBe(expectedExport);
      // And from Postgres into an empty SQLite file.
      const dir = mkdtempSync(join(tmpdir(), "skiff-migrate-"));
      dirs.push(dir);
      const back = createSqliteSessionStore(join(dir, "back.db"));
      await back.importSessions(postgres.exportSessions(), { replace: false });
      expect(await exportText(back)).toBe(expectedExport);
      await back.close();
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  it("upgrade a schema-2 SQLite file to schema 3 keeping its sessions, whichever store opens it first", async () => {
    for (const first of ["sessions", "runs"] as const) {
      const path = v2File();
      const before = rawMessages(path);
      const early = first === "runs" ? createSqliteRunStore(path) : undefined;
      const sessions = createSqliteSessionStore(path);
      const runs = early ?? createSqliteRunStore(path);
      expect(await exportText(sessions)).toBe(expectedExport);
      await runs.create({ id: "run-1", sessionId: "tokyo", background: true, request: "{}", owner: "replica-a", leaseMs: 60_000, events: [{ type: "run.started", data: "{}" }] });
      const commit = { expectedVersion: 2, messages: [{ role: "user" as const, content: "and Rome?" }], maxMessages: 200, runId: "run-1" };
      expect(await sessions.commitTurn("tokyo", commit)).toEqual({ ok: true, version: 3 });
      expect(await sessions.commitTurn("tokyo", commit)).toEqual({ ok: true, version: 3 });
      await sessions.close();
      await runs.close();

      const added = (row: unknown) => (row as { session_id: string; seq: number }).session_id === "tokyo" && (row as { seq: number }).seq === 8;
      expect(rawMessages(path).filter((row) => !added(row))).toEqual(before);
      const db = new Database(path, { readonly: true });
      expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 4 });
      expect(db.query("SELECT version FROM schema_version ORDER BY version").all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
      expect(db.query("SELECT id, version, last_run_id FROM sessions ORDER BY id").all()).toEqual([
        { id: "chat-7", version: 1, last_run_id: null },
        { id: "tokyo", version: 3, last_run_id: "run-1" },
        { id: "trimmed.session:1", version: 5, last_run_id: null },
      ]);
      expect(db.query("SELECT run_id, seq, type FROM run_events").all()).toEqual([{ run_id: "run-1", seq: 1, type: "run.started" }]);
      db.close();
    }
  });

  it.skipIf(!pg)("upgrade a schema-2 Postgres database to schema 3 keeping its sessions", async () => {
    const url = await freshDatabase(pg!);
    const sql = new SQL(url, { max: 1 });
    try {
      await migratePostgres(sql, "test", Date.now, postgresMigrations.slice(0, 2));
      // Sessions as a schema-2 skiff stored them.
      for await (const session of fixtureSessions()) {
        await sql`INSERT INTO skiff_sessions (id, version, created_at, updated_at) VALUES (${session.id}, ${session.version}, ${session.createdAt}, ${session.updatedAt})`;
        for (const [index, message] of session.messages.entries()) {
          await sql`INSERT INTO skiff_messages (session_id, seq, role, body) VALUES (${session.id}, ${index + 1}, ${message.role}, ${JSON.stringify(message)})`;
        }
      }
      // The run store opens the database first: it migrates it as the session store would.
      const runs = await createPostgresRunStore(url);
      const sessions = await createPostgresSessionStore(url);
      try {
        expect(await exportText(sessions)).toBe(expectedExport);
        await runs.create({ id: "run-1", sessionId: "tokyo", background: true, request: "{}", owner: "replica-a", leaseMs: 60_000 });
        const commit = { expectedVersion: 2, messages: [{ role: "user" as const, content: "and Rome?" }], maxMessages: 200, runId: "run-1" };
        expect(await sessions.commitTurn("tokyo", commit)).toEqual({ ok: true, version: 3 });
        expect(await sessions.commitTurn("tokyo", commit)).toEqual({ ok: true, version: 3 });
        expect((await runs.get("run-1"))?.sessionId).toBe("tokyo");
      } finally {
        await sessions.close();
        await runs.close();
      }
      expect(await sql`SELECT version FROM skiff_schema_version ORDER BY version`).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
      expect(await sql`SELECT id, version, last_run_id FROM skiff_sessions ORDER BY id COLLATE "C"`).toEqual([
        { id: "chat-7", version: 1, last_run_id: null },
        { id: "tokyo", version: 3, last_run_id: "run-1" },
        { id: "trimmed.session:1", version: 5, last_run_id: null },
      ]);
    } finally {
      await sql.close();
    }
  });

  it("upgrade a schema-3 SQLite file to schema 4 keeping its sessions and runs, when the usage store opens it first", async () => {
    const path = v2File();
    const db3 = new Database(path);
    migrateSqlite(db3, path, () => 1_795_000_000_000, sqliteMigrations.slice(0, 3));
    db3.close();
    const runs3 = createSqliteRunStore(path);
    await runs3.close();
    const before = rawMessages(path);

    const usage = createSqliteUsageStore(path);
    expect(await usage.add("billing-app", "2026-05-01", { runs: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.01 })).toEqual({ runs: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.01 });
    expect(await usage.countRequest("billing-app", 1)).toBe(1);
    await usage.close();
    const sessions = createSqliteSessionStore(path);
    expect(await exportText(sessions)).toBe(expectedExport);
    await sessions.close();

    expect(rawMessages(path)).toEqual(before);
    const db = new Database(path, { readonly: true });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 4 });
    expect(db.query("SELECT version FROM schema_version ORDER BY version").all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(db.query("SELECT * FROM key_usage").all()).toEqual([{ key_name: "billing-app", day: "2026-05-01", runs: 1, input_tokens: 10, output_tokens: 5, cost_usd: 0.01 }]);
    db.close();
  });

  it.skipIf(!pg)("upgrade a schema-3 Postgres database to schema 4 keeping its sessions and runs", async () => {
    const url = await freshDatabase(pg!);
    const sql = new SQL(url, { max: 1 });
    try {
      await migratePostgres(sql, "test", Date.now, postgresMigrations.slice(0, 3));
      await sql`INSERT INTO skiff_sessions (id, version, created_at, updated_at) VALUES ('kept', 1, 1, 1)`;
      await sql`INSERT INTO skiff_runs (id, status, background, request, created_at, updated_at, attempt) VALUES ('run-3', 'completed', true, '{}', 1, 1, 1)`;
      const usage = await createPostgresUsageStore(url);
      try {
        await usage.add("billing-app", "2026-05-01", { runs: 1, inputTokens: 10, outputTokens: 5, costUsd: 0 });
      } finally {
        await usage.close();
      }
      expect(await sql`SELECT max(version)::int AS v FROM skiff_schema_version`).toEqual([{ v: 4 }]);
      expect(await sql`SELECT id FROM skiff_sessions`).toEqual([{ id: "kept" }]);
      expect(await sql`SELECT id, status FROM skiff_runs`).toEqual([{ id: "run-3", status: "completed" }]);
      expect(await sql`SELECT key_name, day, runs::int AS runs FROM skiff_key_usage`).toEqual([{ key_name: "billing-app", day: "2026-05-01", runs: 1 }]);
    } finally {
      await sql.close();
    }
  });

  it("parse the pinned export back to the same sessions", async () => {
    let text = "";
    for await (const session of fixtureSessions()) text += `${sessionToJsonLine(session)}\n`;
    expect(text).toBe(expectedExport);
  });
});
